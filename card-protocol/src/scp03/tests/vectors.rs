//! Known-answer tests from published vectors. Each vector's source is named where it is
//! used; the values are copied as published.

use super::super::crypto::{self, constant, AesKey, SessionKeys};
use super::*;

/// martinpaljak/GlobalPlatformPro, `tool/src/test/java/pro/javacard/gp/TestSCP03.java`,
/// `testKDF3`: the SP 800-108 counter-mode KDF with AES-256-CMAC over a fixed input that
/// has the counter first (two output blocks).
#[test]
fn card_3_scp03_kdf_matches_globalplatformpro_test_scp03() {
    let master = AesKey::from_slice(&hex(
        "8C72C72CF908411653018807950D82FBAD947562F0828A0B10B8B9606ABF3BCD",
    ))
    .unwrap();
    let after = hex("0000000100 D9B1DE5D0362DEDCE4FB");
    let mut out = [0u8; 32];
    crypto::kdf_counter(&master, &[], &after, &mut out);
    assert_eq!(
        out.to_vec(),
        hex("9AAC5D0B3601F89438A0D9D0B6B256CFB47E6462DFA5228D3420C4AC7C224781")
    );
}

/// suma12/asterix, `asterix/SCP03.py`, `Test128` ("designed from SCP03 crypto
/// calculation by J.M. Valade"): pseudo-random card challenge, session keys, cryptograms,
/// the INITIALIZE UPDATE answer, EXTERNAL AUTHENTICATE and its MAC chaining value.
fn asterix_keys() -> StaticKeys {
    StaticKeys::new(
        &hex("404142434445464748494A4B4C4D4E4F"),
        &hex("4011223344455667 48494A4B4C4D4E4F"),
        &hex("9876543210 404142434445464748494A"),
    )
    .unwrap()
}

fn asterix_card() -> CardScp03 {
    CardScp03::new(
        asterix_keys(),
        0x30,
        hex("000050C7606A8CF64800").try_into().unwrap(),
    )
    .with_pseudo_random_challenge(&hex("A000000018434D08090A0B0C000000"), 0x2A)
    .with_minimum_level(SecurityLevel::CMac)
}

fn asterix_host() -> HostHandshake {
    HostHandshake::new(asterix_keys(), 0x30, [8, 7, 6, 5, 4, 3, 2, 1])
}

#[test]
fn card_3_scp03_handshake_matches_asterix_test128() {
    let mut card = asterix_card();
    let host = asterix_host();
    let initialize_update = host.initialize_update();
    assert_eq!(
        initialize_update.to_bytes(),
        hex("80503000080807060504030201 00")
    );
    let (answer, handshake) = card
        .initialize_update(&initialize_update, &mut FixedRng(vec![]))
        .unwrap();
    assert_eq!(
        answer.data,
        hex("000050C7606A8CF64800300370 A3F5F144D19BE66E 72BFCBDF4A14515F 00002A")
    );
    assert_eq!(card.sequence_counter(), Some(0x2B));

    let context: [u8; 16] = hex("0807060504030201 A3F5F144D19BE66E").try_into().unwrap();
    let keys = SessionKeys::derive(&asterix_keys(), &context);
    assert_eq!(keys.enc.as_bytes(), hex("852D207B7CC8C880231EDFD5C644CFB1"));
    assert_eq!(keys.mac.as_bytes(), hex("7131B9369F3D19850E6919CD3321523E"));
    assert_eq!(
        keys.rmac.as_bytes(),
        hex("B570AA1FDE18F9179B5CBD42D8939D05")
    );
    let host_cryptogram = crypto::cryptogram(&keys.mac, constant::HOST_CRYPTOGRAM, &context);
    assert_eq!(host_cryptogram.to_vec(), hex("AEB8DAD1865B85E2"));

    let (external_authenticate, session) = host.authenticate(&answer, SecurityLevel::CMac).unwrap();
    assert_eq!(
        external_authenticate.to_bytes(),
        hex("8482010010 AEB8DAD1865B85E2 49FC4CF184E61DCD")
    );
    assert_eq!(
        session.channel.chaining.to_vec(),
        hex("49FC4CF184E61DCD4C3928E4C617FBA3")
    );
    let (ok, card_session) = handshake
        .external_authenticate(&external_authenticate)
        .unwrap();
    assert_eq!(ok.sw, StatusWord::SUCCESS);
    assert_eq!(card_session.security_level(), SecurityLevel::CMac);
}

/// suma12/asterix, `asterix/SCP03.py`, `Test128.test_Cdecrypt` and `unwrapAPDU(03)`.
#[test]
fn card_3_scp03_command_encryption_matches_asterix_test128() {
    let mut card = asterix_card();
    let host = asterix_host();
    let (answer, handshake) = card
        .initialize_update(&host.initialize_update(), &mut FixedRng(vec![]))
        .unwrap();
    let (external_authenticate, mut host) =
        host.authenticate(&answer, SecurityLevel::CMacCDec).unwrap();
    let (_, mut card) = handshake
        .external_authenticate(&external_authenticate)
        .unwrap();

    let plain = cmd("80E60200150A45786572636973655236000006EF04C602068200");
    let sealed = host.wrap(plain.clone()).unwrap();
    assert_eq!(sealed.cla, 0x84);
    assert_eq!(
        sealed.data[..32],
        hex("DF31907FC027482D5DCB7DC028245F7C108CA4D2AFF12275079768E1EFE9429E")
    );
    assert_eq!(card.unwrap_command(sealed).unwrap(), plain);
}

/// osmocom/pysim, `tests/unittests/test_globalplatform.py`, classes `SCP03_Test_AES*`:
/// keysets 30/31/32 (AES-128/192/256) at levels 11, 03 and 33. In order: INITIALIZE
/// UPDATE, its answer, EXTERNAL AUTHENTICATE, GET EID wrapped, its response wrapped, then
/// the four APDU cases wrapped.
struct PySim {
    keys: [&'static str; 3],
    init_upd_cmd: &'static str,
    init_upd_rsp: &'static str,
    ext_auth_cmd: &'static str,
    get_eid_cmd: &'static str,
    get_eid_rsp: &'static str,
    cases: [&'static str; 4],
}

const K128: [&str; 3] = [
    "000102030405060708090a0b0c0d0e0f",
    "101112131415161718191a1b1c1d1e1f",
    "202122232425262728292a2b2c2d2e2f",
];
const K192: [&str; 3] = [
    "000102030405060708090a0b0c0d0e0f0001020304050607",
    "101112131415161718191a1b1c1d1e1f1011121314151617",
    "202122232425262728292a2b2c2d2e2f2021222324252627",
];
const K256: [&str; 3] = [
    "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f",
    "101112131415161718191a1b1c1d1e1f101112131415161718191a1b1c1d1e1f",
    "202122232425262728292a2b2c2d2e2f202122232425262728292a2b2c2d2e2f",
];

const GET_EID_CMD_PLAIN: &str = "80E2910006BF3E035C015A00";
const GET_EID_RSP_PLAIN: &str = "bf3e125a1089882119900000000000000000000005";
const CASES_PLAIN: [&str; 4] = [
    "80F22002",
    "80ca006600",
    "80F220020a4f0212345c054f9f70c5",
    "80f28002024f0000",
];

#[rustfmt::skip]
const PYSIM: [PySim; 9] = [
    PySim { keys: K128, init_upd_cmd: "8050300008b13e5f938fc108c400", init_upd_rsp: "000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002", ext_auth_cmd: "84821100107d5f5826a993ebc89eea24957fa0b3ce", get_eid_cmd: "84e291000ebf3e035c015a558d036518a2829700", get_eid_rsp: "bf3e125a1089882119900000000000000000000005971be68992dbbdfa", cases: ["84f220020863a63f8959827fb2", "84ca006608a0c6a4a74166f7ce00", "84f22002124f0212345c054f9f70c52249b50272656536", "84f280020a4f00e91443f6dce6b8ed00"] },
    PySim { keys: K128, init_upd_cmd: "80503000088e1552d0513c60f300", init_upd_rsp: "0000000000000000000030037030760cd2c47c1dd395065fe5ead8a9d7000001", ext_auth_cmd: "8482030010fd4721a14d9b07003c451d2f8ae6bb21", get_eid_cmd: "84e2910018ca9c00f6713d79bc8baa642bdff51c3f6a4082d3bd9ad26c00", get_eid_rsp: "bf3e125a1089882119900000000000000000000005", cases: ["84f2200208c9811b11f1264cf1", "84ca006608e10ab60b3054798800", "84f22002184e2908bdb48b2315a55482e9e936ca122d6ecfae7d17416e", "84f28002180dd10a6b6193e5340b9e77d32d5a179cd710ac2773aefb2800"] },
    PySim { keys: K128, init_upd_cmd: "8050300008fdf38259a1e0de4400", init_upd_rsp: "000000000000000000003003703b1aca81e821f219081cdc01c26b372d000003", ext_auth_cmd: "84823300108c36f96bcc00724a4e13ad591d7da3f0", get_eid_cmd: "84e2910018267a85dfe4a98fca6fb0527e0dfecce4914e40401433c87f00", get_eid_rsp: "f3ba2b1013aa6224f5e1c138d71805c569e5439b47576260b75fc021b25097cb2e68f8a0144975b9", cases: ["84f2200208ac6a59024bed84cc", "84ca006608409912ad8fb7aed000", "84f22002185f3dafc3ac14c381536a488bf44e06d056df9d74dbd21e5a", "84f280021865165105be3373347d0424d4400af2ac393f569ec779389e00"] },
    PySim { keys: K192, init_upd_cmd: "80503100087396430b768b085b00", init_upd_rsp: "000000000000000000003103708cfc23522ffdbf1e5df5542cac8fd866000003", ext_auth_cmd: "84821100102145ed30b146f5db252fb7e624cec244", get_eid_cmd: "84e291000ebf3e035c015aff42cf801d14394400", get_eid_rsp: "bf3e125a1089882119900000000000000000000005162fbd33e04940a9", cases: ["84f22002084584e4f6784811ee", "84ca006608937776ebe190fa3000", "84f22002124f0212345c054f9f70c59a52bddf3040368c", "84f280020a4f009804b11411f7393d00"] },
    PySim { keys: K192, init_upd_cmd: "805031000869c65da8202bf19f00", init_upd_rsp: "00000000000000000000310370b570a67be38446717729d6dd3d2ec5b1000001", ext_auth_cmd: "848203001065df4f1a356a887905466516d9e5b7c1", get_eid_cmd: "84e2910018d2c6fb477c5d4afe4fd4d21f17eff10d3578ec1774a12a2d00", get_eid_rsp: "bf3e125a1089882119900000000000000000000005", cases: ["84f2200208964e188f0b1bb697", "84ca006608f0820035a41d3e1800", "84f220021806b076ed452cd1fa84f77f5c08a146aa77a9286757dea791", "84f2800218d06527e39222dce091fabdb8e9b898417a67a6852d3577db00"] },
    PySim { keys: K192, init_upd_cmd: "80503100089b3f2eef0e8c937400", init_upd_rsp: "00000000000000000000310370f6bb305a15bae1a68f79fb08212fbed7000002", ext_auth_cmd: "84823300109100bc22d58b45b86a26365ce39ff3cf", get_eid_cmd: "84e29100188f7f946c84f70d17994bc6e8791251bb1bb1bf02cf8de58900", get_eid_rsp: "c05176c1b6f72aae50c32cbee63b0e95998928fd4dfb2be9f27ffde8c8476f5909b4805cc4039599", cases: ["84f2200208d5d97754b6b3d2ba", "84ca006608516c82b8e30adbeb00", "84f2200218cc247f4761e6944277a4e0d6e32e44025b1e31537e2fc668", "84f2800218ba22b63d509bef5d093b43e5eaed03ed23144ab2d9cb51de00"] },
    PySim { keys: K256, init_upd_cmd: "805032000811666d57866c6f5400", init_upd_rsp: "0000000000000000000032037053ea8847efa7674e41498a4d66cf0dee000003", ext_auth_cmd: "84821100102f2ad190eff2fafc4908996d1cebd310", get_eid_cmd: "84e291000ebf3e035c015af4b680372542b59d00", get_eid_rsp: "bf3e125a10898821199000000000000000000000058012dd7f01f1c4c1", cases: ["84f2200208d618b7da68d5fe52", "84ca0066088f3e055db23ad5e500", "84f22002124f0212345c054f9f70c5b6e15cc42404915e", "84f280020a4f00aa124aa74afe7f7500"] },
    PySim { keys: K256, init_upd_cmd: "8050320008c6066990fc426e1d00", init_upd_rsp: "000000000000000000003203708682cd81bbd8919f2de3f2664581f118000001", ext_auth_cmd: "848203001077c493b632edadaf865a1e64acc07ce9", get_eid_cmd: "84e29100183ddaa60594963befaada3525b492ede23c2ab2c1ce3afe4400", get_eid_rsp: "bf3e125a1089882119900000000000000000000005", cases: ["84f2200208480ddc8e419da38d", "84ca0066083e9d6a6c0b2d732000", "84f22002183ebfef2da8b04af2a85f491f299b76973df76ff08a4031be", "84f2800218783fff80990f5585b1055010ea95094a26e4a8f1ef4b18e100"] },
    PySim { keys: K256, init_upd_cmd: "805032000897b2055fe58599fd00", init_upd_rsp: "00000000000000000000320370a8439a22cedf045fa9f1903b2834f26e000002", ext_auth_cmd: "8482330010508a0fd959d2e547c6b33154a6be2057", get_eid_cmd: "84e29100187a5ef717eaf1e135ae92fe54429d0e465decda65f5fe5aea00", get_eid_rsp: "ea90dbfa648a67c5eb6abc57f8530b97d0cd5647c5e8732016b55203b078dd2ace7f8bc5d1c1cd99", cases: ["84f2200208bcc5c17275545d93", "84ca00660804806aba9d543bb600", "84f2200218717222491556ec81a45f49ce48be33320024801a1c4cb0e0", "84f2800218561f105bccd3a1642904b251ccc1228beb80a82370a8637000"] },
];

fn keys_of(v: &PySim) -> StaticKeys {
    let [enc, mac, dek] = v.keys.map(hex);
    StaticKeys::new(&enc, &mac, &dek).unwrap()
}

#[test]
fn card_3_scp03_host_matches_pysim_vectors() {
    for (n, v) in PYSIM.iter().enumerate() {
        let init = hex(v.init_upd_cmd);
        let host = HostHandshake::new(keys_of(v), init[2], init[5..13].try_into().unwrap());
        assert_eq!(host.initialize_update().to_bytes(), init, "vector {n}");
        let level = SecurityLevel::from_byte(hex(v.ext_auth_cmd)[2]).unwrap();
        let (ext_auth, mut host) = host.authenticate(&ok(hex(v.init_upd_rsp)), level).unwrap();
        assert_eq!(ext_auth.to_bytes(), hex(v.ext_auth_cmd), "vector {n}");
        host.confirm_external_authenticate(&ok(vec![])).unwrap();
        assert_eq!(
            host.sequence_counter(),
            Some(u32::from(hex(v.init_upd_rsp)[31]))
        );

        let sealed = host.wrap(cmd(GET_EID_CMD_PLAIN)).unwrap();
        assert_eq!(sealed.to_bytes(), hex(v.get_eid_cmd), "vector {n}");
        let opened = host.unwrap(ok(hex(v.get_eid_rsp))).unwrap();
        assert_eq!(opened, ok(hex(GET_EID_RSP_PLAIN)), "vector {n}");
        for (plain, sealed) in CASES_PLAIN.iter().zip(v.cases) {
            assert_eq!(
                host.wrap(cmd(plain)).unwrap().to_bytes(),
                hex(sealed),
                "vector {n}"
            );
        }
    }
}

#[test]
fn card_3_scp03_card_matches_pysim_vectors() {
    for (n, v) in PYSIM.iter().enumerate() {
        let init_upd_rsp = hex(v.init_upd_rsp);
        let kdd: [u8; 10] = init_upd_rsp[..10].try_into().unwrap();
        let mut card = CardScp03::new(keys_of(v), init_upd_rsp[10], kdd)
            .with_minimum_level(SecurityLevel::CMac);
        // pySim's card made its challenge pseudo-randomly from an AID the test does not
        // give; this card takes the same challenge from its "random" source instead.
        let mut rng = FixedRng(init_upd_rsp[13..21].to_vec());
        let (answer, handshake) = card
            .initialize_update(&cmd(v.init_upd_cmd), &mut rng)
            .unwrap();
        assert_eq!(answer.data[..11], init_upd_rsp[..11], "vector {n}");
        assert_eq!(answer.data[13..29], init_upd_rsp[13..29], "vector {n}");

        let (_, mut card) = handshake
            .external_authenticate(&cmd(v.ext_auth_cmd))
            .unwrap();
        let opened = card.unwrap_command(cmd(v.get_eid_cmd)).unwrap();
        assert_eq!(opened, cmd(GET_EID_CMD_PLAIN), "vector {n}");
        let sealed = card.wrap_response(ok(hex(GET_EID_RSP_PLAIN))).unwrap();
        assert_eq!(sealed, ok(hex(v.get_eid_rsp)), "vector {n}");
        for (plain, sealed) in CASES_PLAIN.iter().zip(v.cases) {
            assert_eq!(
                card.unwrap_command(cmd(sealed)).unwrap(),
                cmd(plain),
                "vector {n}"
            );
        }
    }
}
