//! Plug the card into pcscd through vsmartcard's vpcd driver. We are vpcd's TCP client
//! (default 127.0.0.1:35963). Frames both ways: 2-byte big-endian length + payload. A
//! 1-byte payload is a control code: `00` power off, `01` power on, `02` reset (no
//! reply), `04` get ATR (reply: the ATR). Anything else is a command APDU, answered with
//! the response APDU. Insert = connect; remove = close the socket.
//!
//! The connection follows the [`SharedCard`]: when it is removed (or pulled by
//! [`SharedCard::remove_after`]) the socket closes, and on re-insert it reconnects.

use crate::card::ATR;
use crate::shared::SharedCard;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// vpcd's first reader.
pub const DEFAULT_VPCD_ADDR: &str = "127.0.0.1:35963";

const CTRL_POWER_OFF: u8 = 0x00;
const CTRL_POWER_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_GET_ATR: u8 = 0x04;
/// How often the serving thread looks at the stop flag and the card slot.
const TICK: Duration = Duration::from_millis(50);
/// How long [`insert`] keeps trying to reach vpcd.
const CONNECT_FOR: Duration = Duration::from_secs(3);

/// A card in a vpcd reader. Dropping it (or [`VpcdHandle::remove`]) takes the card out.
#[derive(Debug)]
pub struct VpcdHandle {
    stop: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl VpcdHandle {
    /// Close the socket (pcscd sees the card removed) and wait for the thread to end.
    pub fn remove(mut self) {
        self.shutdown();
    }

    /// Whether the card is currently connected to vpcd.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.connected.store(false, Ordering::SeqCst);
    }
}

impl Drop for VpcdHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Connect `card` to vpcd at `addr` (retrying for a few seconds, as vpcd may still be
/// starting) and serve it from a background thread.
pub fn insert(card: SharedCard, addr: SocketAddr) -> io::Result<VpcdHandle> {
    card.insert();
    let stream = connect_retrying(addr, CONNECT_FOR)?;
    let stop = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicBool::new(true));
    let thread = {
        let (stop, connected) = (stop.clone(), connected.clone());
        thread::Builder::new()
            .name(format!("vpcd-{addr}"))
            .spawn(move || run(card, addr, stream, &stop, &connected))?
    };
    Ok(VpcdHandle {
        stop,
        connected,
        thread: Some(thread),
    })
}

fn connect_retrying(addr: SocketAddr, patience: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + patience;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= deadline => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot reach vpcd at {addr} (is pcscd with vpcd running?): {e}"),
                ))
            }
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
}

enum Ended {
    Stopped,
    CardPulled,
    Closed,
}

fn run(
    card: SharedCard,
    addr: SocketAddr,
    first: TcpStream,
    stop: &AtomicBool,
    connected: &AtomicBool,
) {
    let mut stream = Some(first);
    while !stop.load(Ordering::SeqCst) {
        match stream.take() {
            Some(s) => {
                let ended = serve(&s, &card, stop);
                let _ = s.shutdown(Shutdown::Both);
                connected.store(false, Ordering::SeqCst);
                if matches!(ended, Ended::Stopped) {
                    break;
                }
                // Pulled: wait for re-insert. Closed by vpcd (pcscd restarted): retry.
                if matches!(ended, Ended::Closed) {
                    thread::sleep(Duration::from_millis(250));
                }
            }
            None if card.is_inserted() => {
                if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(250)) {
                    card.with_card(|c| c.reset());
                    connected.store(true, Ordering::SeqCst);
                    stream = Some(s);
                } else {
                    thread::sleep(Duration::from_millis(250));
                }
            }
            None => thread::sleep(TICK),
        }
    }
    connected.store(false, Ordering::SeqCst);
}

fn serve(mut stream: &TcpStream, card: &SharedCard, stop: &AtomicBool) -> Ended {
    if stream.set_read_timeout(Some(TICK)).is_err()
        || stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .is_err()
    {
        return Ended::Closed;
    }
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ended::Stopped;
        }
        if !card.is_inserted() {
            return Ended::CardPulled;
        }
        let read = stream.read(&mut chunk);
        acknowledge_at_once(stream);
        match read {
            Ok(0) => return Ended::Closed,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Ended::Closed,
        }
        while let Some(frame) = take_frame(&mut buf) {
            let reply = match frame.as_slice() {
                [] => None,
                [CTRL_POWER_OFF] | [CTRL_POWER_ON] | [CTRL_RESET] => {
                    card.with_card(|c| c.reset());
                    None
                }
                [CTRL_GET_ATR] => Some(ATR.to_vec()),
                [_] => None,
                apdu => match card.transmit_apdu(apdu) {
                    Ok(response) => Some(response),
                    Err(_) => return Ended::CardPulled,
                },
            };
            if let Some(reply) = reply {
                if write_frame(stream, &reply).is_err() {
                    return Ended::Closed;
                }
            }
        }
    }
}

/// pcscd's vpcd driver writes a frame's length and its APDU in two segments without
/// TCP_NODELAY, so Nagle holds the APDU until the length is acknowledged — and Linux
/// delays that acknowledgement by 40 ms: each APDU took 44 ms (measured by
/// `bridge-bench`). Linux drops out of quick-ack mode by itself, so this is said again
/// after every read.
fn acknowledge_at_once(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// One complete frame from the front of `buf`, if there is one.
fn take_frame(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let (&[hi, lo], rest) = buf.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let payload = rest.get(..len)?.to_vec();
    buf.drain(..2 + len);
    Some(payload)
}

fn write_frame(mut stream: &TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(ErrorKind::InvalidData, "response too long for vpcd"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_on_length() {
        let mut buf = vec![0, 1, 4, 0, 2, 0xAA];
        assert_eq!(take_frame(&mut buf), Some(vec![4]));
        assert_eq!(take_frame(&mut buf), None);
        buf.push(0xBB);
        assert_eq!(take_frame(&mut buf), Some(vec![0xAA, 0xBB]));
        assert!(buf.is_empty());
    }
}
