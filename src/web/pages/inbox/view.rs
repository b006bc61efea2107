//! The view models of one conversation (thread, composer, panel) and the presenters that build
//! them from the inbox services' rows. No I/O here.

use chrono::Utc;

use super::view_list::IdLike;
use super::view_thread::{self, DayGroup, WindowView, accept};
use crate::auth::CurrentUser;
use crate::db::ids::ConversationId;
use crate::db::statuses::ConversationStatus;
use crate::inbox::actions::Label;
use crate::inbox::contact_panel::OtherConversation;
use crate::inbox::list::{self, ConversationRow};
use crate::inbox::saved_replies::SavedReply;
use crate::inbox::thread;
use crate::inbox::window::window;

/// Everything the page shows about one conversation.
pub struct ConversationView {
    pub row: ConversationRow,
    pub csrf: String,
    pub days: Vec<DayGroup>,
    pub earlier_url: Option<String>,
    pub earlier_unavailable: bool,
    pub window: WindowView,
    pub composer: Composer,
    pub panel: Panel,
}

/// The reply box (re-rendered with the typed text and the reason when a send is refused).
pub struct Composer {
    pub conversation_id: ConversationId,
    pub text: String,
    pub human_agent: bool,
    pub error: Option<String>,
    pub window: WindowView,
    pub saved_replies: Vec<SavedReply>,
    pub accept: &'static str,
    pub csrf: String,
}

/// The contact panel.
pub struct Panel {
    pub row: ConversationRow,
    pub labels: Vec<Label>,
    pub all_labels: Vec<Label>,
    pub members: Vec<(i64, String)>,
    pub other: Vec<OtherConversation>,
    pub statuses: &'static [ConversationStatus],
    pub csrf: String,
    pub me: i64,
}

impl Panel {
    pub fn is_assignee(&self, id: impl IdLike) -> bool {
        self.row.assignee_id == Some(id.value())
    }

    pub fn is_me(&self, id: impl IdLike) -> bool {
        id.value() == self.me
    }

    pub fn assigned_to_me(&self) -> bool {
        self.row.assignee_id == Some(self.me)
    }
}

/// The thread without the composer and panel (for live refreshes and earlier pages).
pub struct ThreadOnly {
    pub row: ConversationRow,
    pub csrf: String,
    pub days: Vec<DayGroup>,
    pub earlier_url: Option<String>,
    pub earlier_unavailable: bool,
    pub window: WindowView,
}

/// What a conversation's page shows, loaded in one go.
pub struct Loaded {
    pub row: ConversationRow,
    pub page: thread::ThreadPage,
    pub panel: PanelData,
    pub replies: Vec<SavedReply>,
}

pub fn present_conversation(
    user: &CurrentUser,
    id: ConversationId,
    loaded: Loaded,
) -> ConversationView {
    let Loaded {
        row,
        page,
        panel,
        replies,
    } = loaded;
    let thread = present_thread(user, id, row.clone(), page);
    let panel = present_panel(user, row.clone(), panel);
    let composer = present_composer(user, id, &row, replies);
    ConversationView {
        row: thread.row,
        csrf: thread.csrf,
        days: thread.days,
        earlier_url: thread.earlier_url,
        earlier_unavailable: thread.earlier_unavailable,
        window: thread.window,
        composer,
        panel,
    }
}

pub fn present_thread(
    user: &CurrentUser,
    id: ConversationId,
    row: ConversationRow,
    page: thread::ThreadPage,
) -> ThreadOnly {
    let now = Utc::now();
    let earlier_url = page
        .earlier
        .map(|c| format!("/inbox/{id}/thread?before={}", c.encode()));
    ThreadOnly {
        // At the start of what Parley has, and Meta kept earlier messages from the import.
        earlier_unavailable: page.earlier.is_none() && row.history_limited,
        days: view_thread::days(page, &row.display_name()),
        earlier_url,
        window: WindowView::new(window(row.platform, row.last_inbound_at, now), now),
        csrf: crate::auth::session::csrf_token(&user.session),
        row,
    }
}

pub fn present_panel(user: &CurrentUser, row: ConversationRow, data: PanelData) -> Panel {
    let (labels, all_labels, members, other) = data;
    Panel {
        row,
        labels,
        all_labels,
        members,
        other,
        statuses: list::STATUSES,
        csrf: crate::auth::session::csrf_token(&user.session),
        me: user.id.0,
    }
}

pub fn present_composer(
    user: &CurrentUser,
    id: ConversationId,
    row: &ConversationRow,
    replies: Vec<SavedReply>,
) -> Composer {
    let now = Utc::now();
    Composer {
        conversation_id: id,
        text: String::new(),
        human_agent: false,
        error: None,
        window: WindowView::new(window(row.platform, row.last_inbound_at, now), now),
        saved_replies: replies,
        accept: accept(row.platform),
        csrf: crate::auth::session::csrf_token(&user.session),
    }
}

pub type PanelData = (
    Vec<Label>,
    Vec<Label>,
    Vec<(i64, String)>,
    Vec<OtherConversation>,
);
