//! `gatehouse healthcheck`: asks the local server's /healthz, for container health
//! checks in images that have no curl. Exit code 0 when healthy, 1 otherwise (also
//! for a bad configuration: Docker reserves exit code 2).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use super::CliError;
use crate::config::Config;

const TIMEOUT: Duration = Duration::from_secs(3);

pub async fn run(config: &Config) -> Result<(), CliError> {
    let addr = probe_addr(
        config
            .listen_addr()
            .map_err(|e| CliError::Usage(e.to_string()))?,
    );
    tokio::task::spawn_blocking(move || probe(addr))
        .await
        .map_err(|e| CliError::Usage(format!("health check did not run: {e}")))?
        .map_err(CliError::Usage)?;
    crate::say!("ok");
    Ok(())
}

/// A server listening on every interface is asked on loopback.
pub fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// GET /healthz over a plain TCP connection; Ok when the status is 200.
pub fn probe(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    // The status line is all we need; the body is two bytes.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("no answer from {addr}: {e}")),
        }
        if head[..read].contains(&b'\n') {
            break;
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status_line = status_line.lines().next().unwrap_or_default();
    let mut parts = status_line.split(' ');
    match (parts.next(), parts.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(()),
        _ => Err(format!("unhealthy: {addr} answered '{status_line}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_listen_addresses_are_probed_on_loopback() {
        let v4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(probe_addr(v4), "127.0.0.1:8080".parse().unwrap());
        let v6: SocketAddr = "[::]:9000".parse().unwrap();
        assert_eq!(probe_addr(v6), "[::1]:9000".parse().unwrap());
        let own: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(probe_addr(own), own);
    }
}
