//! The vpcd wire protocol, against a local listener that speaks as vpcd does: framing,
//! control codes, and the socket following the card's insert/remove. (The real pcscd +
//! vpcd path is `tests/pcsc.rs`.)

// Test helpers may fail loudly: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use card_protocol::piv;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use virtual_card::{vpcd, CreateOptions, SharedCard, VirtualCard, ATR};

fn send(s: &mut TcpStream, payload: &[u8]) {
    let mut frame = (payload.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    s.write_all(&frame).unwrap();
}

fn recv(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut payload = vec![0; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut payload).unwrap();
    payload
}

fn accept(listener: &TcpListener) -> TcpStream {
    let (s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// The card hung up: the next read sees end of stream.
fn assert_closed(s: &mut TcpStream) {
    let mut byte = [0u8; 1];
    assert_eq!(s.read(&mut byte).unwrap(), 0);
}

#[test]
fn card_4_vpcd_framing_and_control_codes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let card = SharedCard::new(VirtualCard::create(&CreateOptions::default()).unwrap());
    let handle = vpcd::insert(card.clone(), addr).unwrap();
    let mut s = accept(&listener);
    assert!(handle.is_connected());

    send(&mut s, &[0x01]); // power on: no reply
    send(&mut s, &[0x04]);
    assert_eq!(recv(&mut s), ATR);
    // One APDU split across two writes still arrives whole.
    let select = piv::select().to_bytes();
    let mut frame = (select.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(&select);
    let (a, b) = frame.split_at(4);
    s.write_all(a).unwrap();
    std::thread::sleep(Duration::from_millis(120));
    s.write_all(b).unwrap();
    let answer = recv(&mut s);
    assert_eq!(answer.get(answer.len() - 2..), Some(&[0x90, 0x00][..]));
    // Two frames in one write: both answered, in order.
    let mut two = Vec::new();
    for apdu in [piv::verify_pin_status().to_bytes(), vec![0x00, 0x42, 0, 0]] {
        two.extend_from_slice(&(apdu.len() as u16).to_be_bytes());
        two.extend_from_slice(&apdu);
    }
    s.write_all(&two).unwrap();
    assert_eq!(recv(&mut s), vec![0x63, 0xC3]);
    assert_eq!(recv(&mut s), vec![0x6D, 0x00]);
    // Reset (02) powers the card down: PIV must be selected again.
    send(&mut s, &[0x02]);
    send(&mut s, &piv::verify_pin_status().to_bytes());
    assert_eq!(recv(&mut s), vec![0x69, 0x85]);

    handle.remove();
    assert_closed(&mut s);
}

#[test]
fn brg_4_removing_the_card_closes_the_socket_and_insert_reconnects() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let card = SharedCard::new(VirtualCard::create(&CreateOptions::default()).unwrap());
    let handle = vpcd::insert(card.clone(), addr).unwrap();
    let mut s = accept(&listener);

    // Pulled after one more APDU: that one is answered, then the link drops.
    card.remove_after(1);
    send(&mut s, &piv::select().to_bytes());
    let answer = recv(&mut s);
    assert_eq!(answer.get(answer.len() - 2..), Some(&[0x90, 0x00][..]));
    assert_closed(&mut s);
    assert!(!card.is_inserted());

    card.insert();
    let mut s = accept(&listener);
    send(&mut s, &[0x04]);
    assert_eq!(recv(&mut s), ATR);
    assert!(handle.is_connected());

    // A different card in the same reader.
    let other = VirtualCard::create(&CreateOptions {
        guid: Some([1; 16]),
        ..CreateOptions::default()
    })
    .unwrap();
    card.swap(other);
    send(&mut s, &piv::select().to_bytes());
    recv(&mut s);
    send(&mut s, &piv::get_data(piv::TAG_CHUID).to_bytes());
    let chuid = recv(&mut s);
    let chuid = piv::Chuid::parse(&chuid[..chuid.len() - 2]).unwrap();
    assert_eq!(chuid.guid, [1; 16]);

    drop(handle);
    assert_closed(&mut s);
}

#[test]
fn all_2_no_vpcd_is_a_clear_error() {
    // Bind then drop: nothing listens on this port any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let card = SharedCard::new(VirtualCard::create(&CreateOptions::default()).unwrap());
    let err = vpcd::insert(card, addr).unwrap_err();
    assert!(err.to_string().contains("cannot reach vpcd"), "{err}");
}
