//! The fuzz targets' bodies (issue 22, ALL-2: bad input anywhere gets a clear error, never
//! a panic): each takes arbitrary bytes and must return, whatever they are. `fuzz/`
//! drives them coverage-guided with libFuzzer (`cargo xtask fuzz`, nightly);
//! `tests/corpus.rs` replays every input the fuzzer kept, on stable, with the rest of
//! the tests — so a crash found once stays fixed.

use api_types::recovery::{RecoveryRequest, SendCodeRequest};
use card_protocol::scp03::{
    CardScp03, CardSession, HostHandshake, HostSession, SecurityLevel, StaticKeys,
};
use card_protocol::{tlv, CommandApdu, ResponseApdu};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A target's body: anything in, nothing out, no panic.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus directory has.
pub const TARGETS: [(&str, Target); 5] = [
    ("card_answers", card_answers),
    ("scp03_card_unwrap", scp03_card_unwrap),
    ("scp03_host_unwrap", scp03_host_unwrap),
    ("api_json", api_json),
    ("settings", settings),
];

/// What a card (or a page pretending to be one) may answer: APDUs both ways, BER-TLV,
/// and every PIV object the server and the bridge read out of an answer.
pub fn card_answers(data: &[u8]) {
    let _ = CommandApdu::parse(data);
    let _ = tlv::parse_all(data);
    let _ = tlv::find(data, 0x53);
    let _ = card_protocol::piv::Chuid::parse(data);
    let _ = card_protocol::piv::parse_signature(data);
    let _ = card_protocol::issue::parse_public_key(data);
    let _ = card_protocol::issue::parse_certificate_object(data);
    if let Ok(answer) = ResponseApdu::parse(data) {
        let _ = card_protocol::metadata::public_key(&answer);
        let _ = card_protocol::issue::public_key(&answer);
        let _ = card_protocol::issue::certificate(&answer);
    }
}

/// The security level a fuzz input asks for, from its first byte.
fn level(byte: u8) -> SecurityLevel {
    const LEVELS: [SecurityLevel; 5] = [
        SecurityLevel::CMac,
        SecurityLevel::CMacCDec,
        SecurityLevel::CMacRMac,
        SecurityLevel::CMacCDecRMac,
        SecurityLevel::CMacCDecRMacREnc,
    ];
    LEVELS[usize::from(byte) % LEVELS.len()]
}

/// A host and a card with an SCP03 channel open between them at `level`, from fixed
/// keys and challenges, so every run meets the same session.
fn open(level: SecurityLevel) -> Option<(HostSession, CardSession)> {
    let keys = || StaticKeys::new(&[0x11; 16], &[0x22; 16], &[0x33; 16]).ok();
    let mut rng = StdRng::seed_from_u64(22);
    let mut card = CardScp03::new(keys()?, 0x30, [0x0A; 10]);
    let host = HostHandshake::random(keys()?, 0x30, &mut rng);
    let (answer, handshake) = card
        .initialize_update(&host.initialize_update(), &mut rng)
        .ok()?;
    let (external_authenticate, mut host) = host.authenticate(&answer, level).ok()?;
    let (answer, card) = handshake
        .external_authenticate(&external_authenticate)
        .ok()?;
    host.confirm_external_authenticate(&answer).ok()?;
    Some((host, card))
}

/// CARD-3, the card's end: a wrapped command from anyone on the wire.
pub fn scp03_card_unwrap(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Some((_, mut card)) = open(level(first)) else {
        return;
    };
    if let Ok(command) = CommandApdu::parse(rest) {
        let _ = card.unwrap_command(command);
    }
}

/// CARD-3, the server's end: a card's answer relayed by a page it does not trust.
pub fn scp03_host_unwrap(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Some((mut host, _)) = open(level(first)) else {
        return;
    };
    if let Ok(answer) = ResponseApdu::parse(rest) {
        let _ = host.unwrap(answer);
    }
}

/// Parses `data` as JSON of type `T`, as the server and the bridge take request bodies.
fn body<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
}

/// Every request body the server and the card bridge accept, chosen by the first byte.
pub fn api_json(data: &[u8]) {
    use api_types::{auth, bridge, helpdesk, passcodes, ra, register, renewal, unlock};
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let parsers: [Target; 34] = [
        body::<unlock::StartRequest>,
        body::<unlock::ResumeRequest>,
        body::<unlock::CardProofRequest>,
        body::<unlock::AnswersRequest>,
        body::<unlock::CodeRequest>,
        body::<unlock::ChannelRequest>,
        body::<unlock::ScriptRequest>,
        body::<unlock::CompleteRequest>,
        body::<RecoveryRequest>,
        body::<SendCodeRequest>,
        body::<auth::LoginStartRequest>,
        body::<auth::LoginFinishRequest>,
        body::<auth::CardAgainRequest>,
        body::<auth::LogoutRequest>,
        body::<auth::ChangeContactRequest>,
        body::<auth::NotMeRequest>,
        body::<register::RegisterBeginRequest>,
        body::<register::RegisterDetailsRequest>,
        body::<register::ResendRequest>,
        body::<register::RegisterConfirmRequest>,
        body::<renewal::RenewalStartRequest>,
        body::<renewal::RenewalRecoverRequest>,
        body::<renewal::RenewalChannelRequest>,
        body::<passcodes::PasscodeUpdateRequest>,
        body::<helpdesk::HelpdeskCheckRequest>,
        body::<ra::ReasonRequest>,
        body::<ra::DeskRenewalRequest>,
        body::<ra::ContactRequest>,
        body::<ra::RoleRequest>,
        body::<bridge::SignChallengeRequest>,
        body::<bridge::RelayRequest>,
        body::<bridge::ChangePinRequest>,
        body::<bridge::VerifyPinRequest>,
        body::<bridge::CardLoginRequest>,
    ];
    parsers[usize::from(first) % parsers.len()](rest);
}

/// ALL-2: a settings file, as `smartcard-server` reads it at start-up.
pub fn settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(settings) = toml::from_str::<server::Settings>(text) {
        let _ = settings.validate();
    }
}
