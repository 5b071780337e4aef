"""Key pairs as stock nova makes and checks them: an SSH key (RSA 2048,
``ssh-rsa ... Generated-by-Nova``, MD5 fingerprint) or an x509
certificate (self-signed, SHA-1 fingerprint), with the ``cryptography``
library.
"""

import base64
import binascii
import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from nova import exception


def _colon_hex(digest):
    return ':'.join('%02x' % b for b in digest)


def _new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def generate_fingerprint(public_key):
    """The MD5 fingerprint of an OpenSSH public key, colon-separated.

    :raises InvalidKeypair: not an OpenSSH public key.
    """
    try:
        serialization.load_ssh_public_key(public_key.encode())
        blob = base64.b64decode(public_key.split(None, 2)[1])
    except (ValueError, TypeError, IndexError, binascii.Error):
        raise exception.InvalidKeypair(
            reason='failed to generate fingerprint'
        ) from None
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def generate_x509_fingerprint(pem):
    """The SHA-1 fingerprint of a PEM certificate, colon-separated.

    :raises InvalidKeypair: not a PEM certificate.
    """
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise exception.InvalidKeypair(
            reason='failed to generate X509 fingerprint'
        ) from None
    return _colon_hex(cert.fingerprint(hashes.SHA1()))  # noqa: S303


def generate_key_pair():
    """A new SSH key: (private key PEM, public key, fingerprint)."""
    key = _new_rsa_key()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.OpenSSH,
            serialization.PublicFormat.OpenSSH,
        )
        .decode()
        + ' Generated-by-Nova'
    )
    return _private_pem(key), public, generate_fingerprint(public)


def generate_x509_cert(user_id, days=3650):
    """A new self-signed certificate for ``user_id``: (private key PEM,
    certificate PEM, fingerprint)."""
    key = _new_rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return _private_pem(key), pem, generate_x509_fingerprint(pem)
