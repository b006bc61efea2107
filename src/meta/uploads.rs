//! Meta's Resumable Upload API: a session for one file on the app, then its bytes; the
//! answer is a handle that template media headers take as their example.

use serde::Deserialize;

use crate::meta::client::{Auth, Body, Call, GraphClient, Repeat};
use crate::meta::error::GraphError;
use crate::meta::token::AccessToken;

#[derive(Debug, Deserialize)]
struct UploadSession {
    id: String,
}

#[derive(Debug, Deserialize)]
struct UploadedFile {
    h: String,
}

impl GraphClient {
    /// Uploads one file in a single part; returns its handle.
    pub async fn upload_file(
        &self,
        token: &AccessToken,
        file_name: &str,
        file_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, GraphError> {
        let app = self.app_id()?.to_string();
        let start = Call::post(
            format!("{app}/uploads"),
            Auth::Token(token),
            Body::Empty,
            Repeat::Once,
        )
        .query("file_name", file_name)
        .query("file_length", bytes.len().to_string())
        .query("file_type", file_type);
        let session: UploadSession = self.call(start).await?;
        let write = Call::post(
            session.id,
            Auth::Token(token),
            Body::Raw { bytes, offset: 0 },
            Repeat::Once,
        );
        let done: UploadedFile = self.call(write).await?;
        Ok(done.h)
    }
}
