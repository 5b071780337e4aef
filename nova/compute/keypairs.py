"""Users' key pairs, as stock nova's ``KeypairAPI``: create (generate or
import an SSH key or an x509 certificate), list, show, delete; scoped to
a user, within ``[quota] key_pairs``. A key pair is a database row: no
workflow runs, nothing happens on a host.
"""

import string

from nova import crypto
from nova import exception
import nova.conf
from nova.db import api as db_api
from nova.db import key_pairs as key_pairs_db

CONF = nova.conf.CONF

KEYPAIR_TYPE_SSH = 'ssh'
KEYPAIR_TYPE_X509 = 'x509'

_SAFE_CHARS = '_- ' + string.digits + string.ascii_letters


def _validate_name(name):
    if not 0 < len(name) < 256:
        raise exception.InvalidKeypair(
            reason='Keypair name must be string and between 1 and 255 '
            'characters long'
        )
    if any(char not in _SAFE_CHARS for char in name):
        raise exception.InvalidKeypair(
            reason='Keypair name contains unsafe characters'
        )


class KeypairAPI:
    """The key pairs of one user at a time."""

    @db_api.context_manager.writer
    def create(self, context, user_id, name, public_key=None, key_type=None):
        """Import ``public_key`` or, without one, generate a key pair;
        return (the row, the private key or None).

        :raises InvalidKeypair: a bad name or public key (400).
        :raises KeypairLimitExceeded: the user has the most (403).
        :raises KeyPairExists: the user has one of that name (409).
        """
        key_type = key_type or KEYPAIR_TYPE_SSH
        _validate_name(name)
        limit = CONF.quota.key_pairs
        if limit >= 0 and key_pairs_db.count(context, user_id) >= limit:
            raise exception.KeypairLimitExceeded()
        private_key = None
        if public_key is None:
            if key_type == KEYPAIR_TYPE_X509:
                private_key, public_key, fingerprint = (
                    crypto.generate_x509_cert(user_id)
                )
            else:
                private_key, public_key, fingerprint = (
                    crypto.generate_key_pair()
                )
        elif key_type == KEYPAIR_TYPE_X509:
            fingerprint = crypto.generate_x509_fingerprint(public_key)
        else:
            fingerprint = crypto.generate_fingerprint(public_key)
        row = key_pairs_db.create(
            context, user_id, name, public_key, fingerprint, key_type
        )
        return row, private_key

    def get(self, context, user_id, name):
        return key_pairs_db.get(context, user_id, name)

    def get_all(self, context, user_id):
        return key_pairs_db.get_all(context, user_id)

    def delete(self, context, user_id, name):
        key_pairs_db.destroy(context, user_id, name)
