//! Property tests: whatever is wrapped arrives intact, and no single-byte corruption of a
//! wrapped command or response gets through.

use super::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

fn command() -> impl Strategy<Value = CommandApdu> {
    (
        select(vec![0x00u8, 0x10, 0x80, 0x90]),
        any::<[u8; 3]>(),
        prop_oneof![vec(any::<u8>(), 0..=40), vec(any::<u8>(), 230..=300)],
        proptest::option::of(prop_oneof![1usize..=256, 257usize..=65_536]),
    )
        .prop_map(|(cla, [ins, p1, p2], data, le)| CommandApdu {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
}

fn level() -> impl Strategy<Value = SecurityLevel> {
    select(LEVELS.to_vec())
}

fn with_rmac() -> impl Strategy<Value = SecurityLevel> {
    select(vec![
        SecurityLevel::CMacRMac,
        SecurityLevel::CMacCDecRMac,
        SecurityLevel::CMacCDecRMacREnc,
    ])
}

fn success_or_warning() -> impl Strategy<Value = StatusWord> {
    prop_oneof![Just(0x9000u16), 0x6200u16..=0x63FF].prop_map(StatusWord)
}

proptest! {
    #[test]
    fn card_3_scp03_any_command_round_trips_and_any_corruption_is_refused(
        level in level(),
        command in command(),
        at in any::<Index>(),
        flip in 1u8..=255,
    ) {
        let (mut host, mut card) = open(level);
        let sealed = host.wrap(command.clone()).unwrap().to_bytes();
        let opened = card.unwrap_command(CommandApdu::parse(&sealed).unwrap()).unwrap();
        prop_assert_eq!(&opened, &command);

        let (mut host, mut card) = open(level);
        let mut bytes = host.wrap(command.clone()).unwrap().to_bytes();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        // If the length fields no longer add up the APDU is refused before the channel.
        if let Ok(corrupt) = CommandApdu::parse(&bytes) {
            match card.unwrap_command(corrupt) {
                Err(_) => prop_assert!(!card.is_open()),
                // Le is the one field Amendment D leaves outside the C-MAC: a changed Le
                // may pass, nothing else may.
                Ok(opened) => {
                    prop_assert_ne!(opened.le, command.le);
                    prop_assert_eq!(CommandApdu { le: command.le, ..opened }, command);
                }
            }
        }
    }

    #[test]
    fn card_3_scp03_any_response_round_trips(
        level in level(),
        data in vec(any::<u8>(), 0..300),
        sw in success_or_warning(),
    ) {
        let (mut host, mut card) = open(level);
        let sealed = host.wrap(CommandApdu::new(0, Ins::GetData, 0x3F, 0xFF).with_le(256)).unwrap();
        card.unwrap_command(sealed).unwrap();
        let response = ResponseApdu::new(data, sw);
        let sealed = card.wrap_response(response.clone()).unwrap();
        prop_assert_eq!(host.unwrap(sealed).unwrap(), response);
    }

    #[test]
    fn card_3_scp03_any_corrupted_response_is_refused(
        level in with_rmac(),
        data in vec(any::<u8>(), 0..300),
        sw in success_or_warning(),
        at in any::<Index>(),
        flip in 1u8..=255,
    ) {
        let (mut host, mut card) = open(level);
        let sealed = host.wrap(CommandApdu::new(0, Ins::GetData, 0x3F, 0xFF).with_le(256)).unwrap();
        card.unwrap_command(sealed).unwrap();
        let mut bytes = card.wrap_response(ResponseApdu::new(data, sw)).unwrap().to_bytes();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(host.unwrap(ResponseApdu::parse(&bytes).unwrap()).is_err());
        prop_assert!(!host.is_open());
    }
}
