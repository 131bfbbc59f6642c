//! Where an IMAP message comes from, as the store records it: the folder's numbering of UIDs
//! and the last UID read in it.

use mailgate_domain::incoming::IncomingServerSpec;

/// Which numbering of UIDs a folder's progress belongs to. A UID names a message only within
/// one folder of one account with one UIDVALIDITY (RFC 9051 2.3.1.1), and another folder or
/// account may well use the same UIDVALIDITY (Dovecot derives it from the creation time).
/// So the recorded validity is the UIDVALIDITY (low 32 bits) with a 31-bit hash of host,
/// mailbox and folder above it: pointing the server at another folder starts afresh instead of
/// skipping that folder's UIDs up to the old folder's last one.
pub(super) fn numbering(spec: &IncomingServerSpec, uid_validity: u32) -> i64 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u32 = 0x811c_9dc5;
    let parts = [
        spec.host.to_ascii_lowercase(),
        spec.email.as_str().to_ascii_lowercase(),
        spec.folder.clone(),
    ];
    for byte in parts.join("\0").bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    (i64::from(hash & 0x7fff_ffff) << 32) | i64::from(uid_validity)
}

/// The last UID read in the folder's current numbering, `None` when it was never read in it.
/// Progress recorded before numberings existed (the bare UIDVALIDITY) still counts, so that an
/// upgrade does not read every folder again.
pub(super) fn last_read(
    progress: Option<(i64, i64)>,
    spec: &IncomingServerSpec,
    uid_validity: u32,
) -> Option<u32> {
    match progress {
        Some((v, last)) if v == numbering(spec, uid_validity) || v == i64::from(uid_validity) => {
            Some(u32::try_from(last).unwrap_or(0))
        }
        _ => None,
    }
}

/// Where an IMAP message comes from, as the store records it.
pub(super) fn imap_key(server_id: mailgate_domain::Id, validity: i64, uid: u32) -> String {
    format!("{server_id}:{validity}:{uid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_folder_and_account_has_its_own_numbering() {
        let spec: IncomingServerSpec = serde_json::from_value(serde_json::json!({
            "name": "Support", "email": "support@example.com", "protocol": "imap",
            "host": "imap.example.com", "port": 993, "security": "ssl", "auth": "basic",
            "username": "support@example.com", "folder": "INBOX", "after_import": "leave",
            "enabled": true, "primary": false
        }))
        .unwrap();
        let other_folder = IncomingServerSpec {
            folder: "Archive".into(),
            ..spec.clone()
        };
        let other_host = IncomingServerSpec {
            host: "imap.example.org".into(),
            ..spec.clone()
        };
        let n = numbering(&spec, 1_700_000_000);
        assert_eq!(n, numbering(&spec.clone(), 1_700_000_000), "stable");
        assert_eq!(n & 0xffff_ffff, 1_700_000_000, "the UIDVALIDITY is kept");
        assert!(n >= 0 && numbering(&spec, u32::MAX) >= 0);
        assert_ne!(n, numbering(&other_folder, 1_700_000_000));
        assert_ne!(n, numbering(&other_host, 1_700_000_000));
        assert_ne!(n, numbering(&spec, 1_700_000_001));

        assert_eq!(last_read(Some((n, 42)), &spec, 1_700_000_000), Some(42));
        assert_eq!(
            last_read(Some((1_700_000_000, 42)), &spec, 1_700_000_000),
            Some(42),
            "progress recorded before numberings"
        );
        assert_eq!(last_read(Some((n, 42)), &other_folder, 1_700_000_000), None);
        assert_eq!(last_read(Some((n, 42)), &spec, 1_700_000_001), None);
        assert_eq!(last_read(None, &spec, 1_700_000_000), None);
    }
}
