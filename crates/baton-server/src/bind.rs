//! Where the server may listen: loopback addresses only, unless the person
//! says otherwise.

use crate::error::ServerError;
use std::net::SocketAddr;

/// The address `baton serve` listens on by default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4690";

/// Resolves `addr` (`HOST:PORT`; names are looked up, IPv6 hosts go in
/// brackets) and checks that every address it resolves to is a loopback
/// one, unless `allow_remote`: anything else would expose the engine, and
/// the shell commands its agents run, to the network.
pub async fn check_bind(addr: &str, allow_remote: bool) -> Result<Vec<SocketAddr>, ServerError> {
    let bad = |reason: String| ServerError::BadAddress {
        addr: addr.to_owned(),
        reason,
    };
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| bad(format!("{e} (expected HOST:PORT, e.g. {DEFAULT_ADDR})")))?
        .collect();
    if resolved.is_empty() {
        return Err(bad("it resolves to no address".to_owned()));
    }
    if !allow_remote
        && let Some(remote) = resolved
            .iter()
            .find(|a| !a.ip().to_canonical().is_loopback())
    {
        return Err(ServerError::NotLoopback { addr: *remote });
    }
    Ok(resolved)
}
