//! The certificate a user trusts for one connection (`--cacert FILE`, the app's trusted
//! certificate): read from PEM, added to the built-in roots, and accepted the way curl accepts it
//! when the server presents exactly that certificate even though it is marked as a CA
//! (`openssl req -x509` makes CA:TRUE certificates by default, and webpki refuses a CA
//! certificate as a server's own).
//!
//! Owns: reading the PEM file (a file without a certificate is refused with words saying so) and
//! the TLS configuration used when one is given.
//!
//! Must never: accept a certificate that is not byte for byte one the user gave, nor skip for it
//! the checks that still apply to a certificate trusted that way: its validity period, the host
//! name, the extended key usage, the handshake signature.

use super::ClientError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use std::sync::Arc;

/// The certificates in a PEM file, in order; an error in words when there are none or one does
/// not decode.
pub(super) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let mut certs = vec![];
    for (n, c) in CertificateDer::pem_slice_iter(pem).enumerate() {
        match c {
            Ok(c) => certs.push(c),
            Err(e) => {
                return Err(ClientError::Certificate(format!(
                    "holds a certificate block that does not decode (block {}: {e})",
                    n + 1
                )))
            }
        }
    }
    if certs.is_empty() {
        let what = if pem.iter().all(u8::is_ascii_whitespace) {
            "it is empty"
        } else if String::from_utf8_lossy(pem).contains("PRIVATE KEY-----") {
            "it holds a private key, not the certificate"
        } else if pem.first() == Some(&0x30) {
            "it looks like a DER file: convert it with `openssl x509 -inform DER -in FILE -out \
             FILE.pem`"
        } else {
            "no \"-----BEGIN CERTIFICATE-----\" block"
        };
        return Err(ClientError::Certificate(format!(
            "holds no PEM certificate ({what})"
        )));
    }
    Ok(certs)
}

/// The TLS configuration for a client that trusts `certs` besides the built-in roots.
pub(super) fn tls_config(
    certs: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, ClientError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (n, c) in certs.iter().enumerate() {
        roots.add(c.clone()).map_err(|e| {
            ClientError::Certificate(format!(
                "holds a certificate that cannot be used (certificate {}: {e})",
                n + 1
            ))
        })?;
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| ClientError::Setup(e.to_string()))?;
    let verifier = ExactlyTrusted {
        inner,
        trusted: certs,
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers by itself (HTTP/2, then HTTP/1.1).
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// webpki's verification, plus: a server presenting exactly one of the trusted certificates is
/// accepted although that certificate is a CA's.
#[derive(Debug)]
struct ExactlyTrusted {
    inner: Arc<WebPkiServerVerifier>,
    trusted: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for ExactlyTrusted {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verdict {
            Err(e)
                if ca_used_as_end_entity(&e)
                    && self
                        .trusted
                        .iter()
                        .any(|t| t.as_ref() == end_entity.as_ref()) =>
            {
                // webpki checks the validity period before refusing a CA certificate, so an
                // expired one never gets here; the chain is the certificate itself, trusted as
                // given. What webpki would have checked after: the host name and the purpose.
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                if !server_auth_allowed(end_entity.as_ref()) {
                    return Err(Error::InvalidCertificate(CertificateError::InvalidPurpose));
                }
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// Whether webpki refused the certificate only because it is a CA's (basicConstraints CA:TRUE).
fn ca_used_as_end_entity(e: &Error) -> bool {
    match e {
        Error::InvalidCertificate(CertificateError::Other(o)) => {
            o.0.downcast_ref::<webpki::Error>() == Some(&webpki::Error::CaUsedAsEndEntity)
        }
        _ => false,
    }
}

/// id-ce-extKeyUsage (2.5.29.37), its content octets.
const EKU: &[u8] = &[0x55, 0x1d, 0x25];
/// id-kp-serverAuth (1.3.6.1.5.5.7.3.1).
const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];

/// Whether a certificate may serve TLS servers: it has no extended key usage extension, or that
/// extension lists serverAuth (what webpki requires of a server's certificate). A certificate
/// that does not decode this far is not allowed.
fn server_auth_allowed(der: &[u8]) -> bool {
    eku_of(der).is_some_and(|eku| match eku {
        None => true,
        Some(purposes) => purposes.contains(&SERVER_AUTH),
    })
}

/// The extended key usage purposes of a DER certificate: `Some(None)` when it has none,
/// `None` when the DER does not decode.
fn eku_of(der: &[u8]) -> Option<Option<Vec<&[u8]>>> {
    let (cert, _) = tlv(der, 0x30)?;
    let (tbs, _) = tlv(cert, 0x30)?;
    let mut rest = tbs;
    while !rest.is_empty() {
        let (tag, content, next) = any_tlv(rest)?;
        rest = next;
        if tag != 0xa3 {
            continue;
        }
        // [3] Extensions: SEQUENCE OF Extension { extnID, critical DEFAULT FALSE, extnValue }.
        let (mut exts, _) = tlv(content, 0x30)?;
        while !exts.is_empty() {
            let (ext, next) = tlv(exts, 0x30)?;
            exts = next;
            let (oid, mut ext) = tlv(ext, 0x06)?;
            if oid != EKU {
                continue;
            }
            if let Some((_, after)) = tlv(ext, 0x01) {
                ext = after;
            }
            let (value, _) = tlv(ext, 0x04)?;
            let (mut list, _) = tlv(value, 0x30)?;
            let mut purposes = vec![];
            while !list.is_empty() {
                let (p, next) = tlv(list, 0x06)?;
                purposes.push(p);
                list = next;
            }
            return Some(Some(purposes));
        }
        return Some(None);
    }
    Some(None)
}

/// The content of a DER element with this tag at the start of `input`, and what follows it.
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    match any_tlv(input)? {
        (t, content, rest) if t == tag => Some((content, rest)),
        _ => None,
    }
}

/// The tag, content and what follows of the DER element at the start of `input`.
fn any_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element.
    fn el(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.push(0x82);
            v.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    /// A certificate-shaped DER with these extensions (the other fields as placeholders).
    fn cert(extensions: Option<Vec<u8>>) -> Vec<u8> {
        let mut tbs = el(0xa0, &el(0x02, &[2]));
        tbs.extend(el(0x02, &[1; 200])); // a long serial: the long length form
        tbs.extend(el(0x30, &[]));
        if let Some(e) = extensions {
            tbs.extend(el(0xa3, &el(0x30, &e)));
        }
        let mut c = el(0x30, &tbs);
        c.extend(el(0x30, &[]));
        c.extend(el(0x03, &[0]));
        el(0x30, &c)
    }

    fn eku_ext(critical: bool, purposes: &[&[u8]]) -> Vec<u8> {
        let list: Vec<u8> = purposes.iter().flat_map(|p| el(0x06, p)).collect();
        let mut e = el(0x06, EKU);
        if critical {
            e.extend(el(0x01, &[0xff]));
        }
        e.extend(el(0x04, &el(0x30, &list)));
        el(0x30, &e)
    }

    #[test]
    fn the_purpose_check_reads_the_extended_key_usage() {
        const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
        let basic = el(
            0x30,
            &[el(0x06, &[0x55, 0x1d, 0x13]), el(0x04, &[0x30, 0])].concat(),
        );
        assert!(server_auth_allowed(&cert(None)));
        assert!(server_auth_allowed(&cert(Some(basic.clone()))));
        assert!(server_auth_allowed(&cert(Some(
            [basic.clone(), eku_ext(false, &[CLIENT_AUTH, SERVER_AUTH])].concat()
        ))));
        assert!(server_auth_allowed(&cert(Some(eku_ext(
            true,
            &[SERVER_AUTH]
        )))));
        assert!(!server_auth_allowed(&cert(Some(
            [basic, eku_ext(false, &[CLIENT_AUTH])].concat()
        ))));
        assert!(!server_auth_allowed(&cert(Some(eku_ext(true, &[])))));
        assert!(!server_auth_allowed(b"not DER"));
        let whole = cert(None);
        assert!(!server_auth_allowed(&whole[..whole.len() - 3]));
    }

    #[test]
    fn a_file_without_a_certificate_says_what_it_holds() {
        let words = |pem: &[u8]| match certificates(pem) {
            Err(ClientError::Certificate(w)) => w,
            other => panic!("{other:?}"),
        };
        assert!(words(b"").contains("holds no PEM certificate (it is empty)"));
        assert!(words(b"  \n").contains("it is empty"));
        assert!(
            words(b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
                .contains("private key")
        );
        assert!(words(&cert(None)).contains("DER"));
        assert!(words(b"garbage").contains("no \"-----BEGIN CERTIFICATE-----\" block"));
        assert!(
            words(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
                .contains("does not decode")
        );
    }
}
