//! `parley healthcheck`: asks this container's Parley whether it is ready (`GET /readyz`) and
//! exits 0 when it answers 200, 1 otherwise. For the Dockerfile's HEALTHCHECK: it needs no
//! shell, no curl and no database connection of its own.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::app::StartError;

/// How long the whole check may take (Docker's default timeout is 30 s; ours says 3 s).
const TIMEOUT: Duration = Duration::from_secs(2);

/// The address to ask: `--address`, else the bind address (an unspecified one means loopback).
pub fn target(bind: SocketAddr, address: Option<&str>) -> Result<SocketAddr, StartError> {
    if let Some(address) = address {
        return address
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| StartError::Other(format!("--address {address:?} is not host:port")));
    }
    let mut addr = bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Ok(addr)
}

/// Asks `GET /readyz` at `addr`; Ok when it answered 200.
pub fn check(addr: SocketAddr) -> Result<(), StartError> {
    let fail = |why: String| StartError::Other(format!("not ready: {why}"));
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| fail(format!("cannot connect to {addr}: {e}")))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| fail(e.to_string()))?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: parley-healthcheck\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| fail(e.to_string()))?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(fail(e.to_string())),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("none");
    if status == "200" {
        Ok(())
    } else {
        Err(fail(format!("/readyz answered {status}")))
    }
}
