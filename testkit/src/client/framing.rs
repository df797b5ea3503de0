//! How the y-protocols messages travel on the socket: one per frame as `y-websocket`
//! sends them, or each prefixed with the document name as `@hocuspocus/provider` does.
//!
//! Hocuspocus's framing was read from `@hocuspocus/provider` 4.7 (`OutgoingMessages/*.ts`,
//! `MessageReceiver.ts`) and checked against the real server: every message starts with
//! the document name as a varString, the first is an auth message (type 2, sub-type 0 =
//! token, the token, the provider's version), the server answers a step 1 with a step 2
//! and its own step 1 as type 4 ("sync reply"), and acknowledges each update with a type 8
//! ("sync status").

/// Hocuspocus message types (`@hocuspocus/server` `types.ts`).
pub(crate) mod hocuspocus {
    pub const SYNC: u32 = 0;
    pub const AUTH: u32 = 2;
    /// A sync message that asks for no further step 1.
    pub const SYNC_REPLY: u32 = 4;
    pub const CLOSE: u32 = 7;
    /// Auth sub-types (`@hocuspocus/common` `auth.ts`).
    pub const AUTH_TOKEN: u64 = 0;
    pub const AUTH_PERMISSION_DENIED: u64 = 1;
    /// The provider version the auth message names (the one pinned in bench/peers).
    pub const PROVIDER_VERSION: &str = "4.7.0";
    /// Hocuspocus accepts any token when no extension authenticates.
    pub const TOKEN: &str = "forankra-bench";
}

/// How the y-protocols messages travel on the socket.
#[derive(Debug, Clone)]
pub enum Framing {
    /// As `y-websocket` sends them: one message per frame, the document named by the URL.
    YWebsocket,
    /// As `@hocuspocus/provider` sends them: each prefixed with the document name.
    Hocuspocus {
        /// The document name, already encoded as a varString.
        prefix: Vec<u8>,
    },
}

impl Framing {
    /// Hocuspocus framing for `document`.
    pub fn hocuspocus(document: &str) -> Self {
        let mut prefix = Vec::with_capacity(document.len() + 2);
        write_var_string(&mut prefix, document);
        Self::Hocuspocus { prefix }
    }

    /// The auth message a Hocuspocus provider sends first; none for y-websocket.
    pub(crate) fn hello(&self) -> Option<Vec<u8>> {
        let Framing::Hocuspocus { prefix } = self else {
            return None;
        };
        let mut auth = prefix.clone();
        write_var(&mut auth, u64::from(hocuspocus::AUTH));
        write_var(&mut auth, hocuspocus::AUTH_TOKEN);
        write_var_string(&mut auth, hocuspocus::TOKEN);
        write_var_string(&mut auth, hocuspocus::PROVIDER_VERSION);
        Some(auth)
    }

    /// One encoded message as a frame in this framing.
    pub(crate) fn frame(&self, encoded: Vec<u8>) -> Vec<u8> {
        match self {
            Framing::YWebsocket => encoded,
            Framing::Hocuspocus { prefix } => {
                let mut bytes = Vec::with_capacity(prefix.len() + encoded.len());
                bytes.extend_from_slice(prefix);
                bytes.extend_from_slice(&encoded);
                bytes
            }
        }
    }
}

/// lib0's varuint: seven bits a byte, low first.
fn write_var(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// lib0's varString: the UTF-8 length as a varuint, then the bytes.
fn write_var_string(out: &mut Vec<u8>, s: &str) {
    write_var(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_strings_are_lib0s() {
        let mut out = Vec::new();
        write_var_string(&mut out, "dok");
        assert_eq!(out, [3, b'd', b'o', b'k']);
        let mut long = Vec::new();
        write_var(&mut long, 300);
        assert_eq!(long, [0xac, 0x02]);
    }

    #[test]
    fn hocuspocus_frames_prefix_the_document_name() {
        let Framing::Hocuspocus { prefix } = Framing::hocuspocus("bench-0") else {
            panic!("expected Hocuspocus framing")
        };
        let mut expected = vec![7];
        expected.extend_from_slice(b"bench-0");
        assert_eq!(prefix, expected);
        assert_eq!(Framing::YWebsocket.frame(vec![0, 1]), vec![0, 1]);
        assert!(Framing::YWebsocket.hello().is_none());
    }
}
