//! The instruction bytes (INS) this product sends or answers, named once (CARD-1, CARD-3),
//! as yubikey.rs names its `Ins`: builders take an [`Ins`], and a card reads the byte of a
//! command it received with [`Ins::parse`], so no INS is spelled as a bare byte elsewhere.
//! A byte that is none of these is no `Ins` at all: the card answers it `6D00`.

use std::fmt;

/// An instruction: ISO 7816-4 and PIV (SP 800-73-4 part 2), GlobalPlatform SCP03
/// (Amendment D), and the YubiKey extensions `yubico-piv-tool` asks a card for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ins {
    /// `A4`: SELECT the PIV application by its AID.
    Select,
    /// `CB`: GET DATA of one PIV data object.
    GetData,
    /// `DB`: PUT DATA of one PIV data object (an admin command).
    PutData,
    /// `20`: VERIFY the PIN (empty: read its tries; P1 `FF`: forget it).
    Verify,
    /// `24`: CHANGE REFERENCE DATA of the PIN or the PUK.
    ChangeReferenceData,
    /// `2C`: RESET RETRY COUNTER, the PUK unblocking the PIN.
    ResetRetryCounter,
    /// `87`: GENERAL AUTHENTICATE, signing with a slot's key.
    GeneralAuthenticate,
    /// `47`: GENERATE ASYMMETRIC KEY PAIR in a slot (an admin command).
    GenerateAsymmetricKeyPair,
    /// `C0`: GET RESPONSE, the rest of an answer announced with `61xx`.
    GetResponse,
    /// `50`: INITIALIZE UPDATE, the first step of the SCP03 handshake.
    InitializeUpdate,
    /// `82`: EXTERNAL AUTHENTICATE, the second step of the SCP03 handshake.
    ExternalAuthenticate,
    /// `FD`: YubiKey GET VERSION.
    GetVersion,
    /// `F8`: YubiKey GET SERIAL.
    GetSerial,
    /// `F7`: YubiKey GET METADATA of a slot (its algorithm, policy, origin, public key).
    GetMetadata,
}

impl Ins {
    /// Every instruction, for round trips and exhaustive tables.
    pub const ALL: [Ins; 14] = [
        Ins::Select,
        Ins::GetData,
        Ins::PutData,
        Ins::Verify,
        Ins::ChangeReferenceData,
        Ins::ResetRetryCounter,
        Ins::GeneralAuthenticate,
        Ins::GenerateAsymmetricKeyPair,
        Ins::GetResponse,
        Ins::InitializeUpdate,
        Ins::ExternalAuthenticate,
        Ins::GetVersion,
        Ins::GetSerial,
        Ins::GetMetadata,
    ];

    /// The byte on the wire.
    pub const fn byte(self) -> u8 {
        match self {
            Ins::Select => 0xA4,
            Ins::GetData => 0xCB,
            Ins::PutData => 0xDB,
            Ins::Verify => 0x20,
            Ins::ChangeReferenceData => 0x24,
            Ins::ResetRetryCounter => 0x2C,
            Ins::GeneralAuthenticate => 0x87,
            Ins::GenerateAsymmetricKeyPair => 0x47,
            Ins::GetResponse => 0xC0,
            Ins::InitializeUpdate => 0x50,
            Ins::ExternalAuthenticate => 0x82,
            Ins::GetVersion => 0xFD,
            Ins::GetSerial => 0xF8,
            Ins::GetMetadata => 0xF7,
        }
    }

    /// The instruction a received byte names; `None` for any other byte (`6D00`).
    pub fn parse(byte: u8) -> Option<Ins> {
        Ins::ALL.into_iter().find(|ins| ins.byte() == byte)
    }

    /// The name the standards give it.
    pub const fn name(self) -> &'static str {
        match self {
            Ins::Select => "SELECT",
            Ins::GetData => "GET DATA",
            Ins::PutData => "PUT DATA",
            Ins::Verify => "VERIFY",
            Ins::ChangeReferenceData => "CHANGE REFERENCE DATA",
            Ins::ResetRetryCounter => "RESET RETRY COUNTER",
            Ins::GeneralAuthenticate => "GENERAL AUTHENTICATE",
            Ins::GenerateAsymmetricKeyPair => "GENERATE ASYMMETRIC KEY PAIR",
            Ins::GetResponse => "GET RESPONSE",
            Ins::InitializeUpdate => "INITIALIZE UPDATE",
            Ins::ExternalAuthenticate => "EXTERNAL AUTHENTICATE",
            Ins::GetVersion => "GET VERSION",
            Ins::GetSerial => "GET SERIAL",
            Ins::GetMetadata => "GET METADATA",
        }
    }
}

impl From<Ins> for u8 {
    fn from(ins: Ins) -> u8 {
        ins.byte()
    }
}

impl fmt::Display for Ins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn card_1_every_ins_round_trips_through_its_byte() {
        for ins in Ins::ALL {
            assert_eq!(Ins::parse(ins.byte()), Some(ins), "{ins}");
            assert_eq!(u8::from(ins), ins.byte());
        }
        let bytes: HashSet<u8> = Ins::ALL.into_iter().map(Ins::byte).collect();
        let names: HashSet<&str> = Ins::ALL.into_iter().map(Ins::name).collect();
        assert_eq!(bytes.len(), Ins::ALL.len(), "no two share a byte");
        assert_eq!(names.len(), Ins::ALL.len(), "no two share a name");
    }

    #[test]
    fn card_1_any_other_byte_is_no_instruction() {
        let known: Vec<u8> = Ins::ALL.into_iter().map(Ins::byte).collect();
        for byte in 0..=u8::MAX {
            assert_eq!(
                Ins::parse(byte).is_some(),
                known.contains(&byte),
                "{byte:02X}"
            );
        }
        // ISO GET DATA (CA) is not PIV's (CB); the card does not answer it.
        assert_eq!(Ins::parse(0xCA), None);
    }

    #[test]
    fn card_1_the_bytes_are_the_standards() {
        let table = [
            (Ins::Select, 0xA4),
            (Ins::GetData, 0xCB),
            (Ins::PutData, 0xDB),
            (Ins::Verify, 0x20),
            (Ins::ChangeReferenceData, 0x24),
            (Ins::ResetRetryCounter, 0x2C),
            (Ins::GeneralAuthenticate, 0x87),
            (Ins::GenerateAsymmetricKeyPair, 0x47),
            (Ins::GetResponse, 0xC0),
            (Ins::InitializeUpdate, 0x50),
            (Ins::ExternalAuthenticate, 0x82),
            (Ins::GetVersion, 0xFD),
            (Ins::GetSerial, 0xF8),
            (Ins::GetMetadata, 0xF7),
        ];
        assert_eq!(table.len(), Ins::ALL.len());
        for (ins, byte) in table {
            assert_eq!(ins.byte(), byte, "{ins}");
        }
    }
}
