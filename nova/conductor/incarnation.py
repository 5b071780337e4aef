"""Owner names that let a restarted conductor prove its predecessor dead.

A conductor that dies (``kill -9``, OOM, a crash) leaves its workflows
owned under leases nobody renews; other conductors adopt them once the
leases run out (``[orchestration] lease_seconds``). When the conductor
restarts on the same host it need not wait: if it can *prove* that the
owner holding them is dead, it frees them at once and adopts them, as
Ironic's conductor clears its own stale reservations when it starts.

The proof rests on what the owner name records::

    HOST:BOOT_ID:PID:NONCE

``HOST`` is the conductor's ``[DEFAULT] host`` (it may contain ``:``, so
names are parsed from the right), ``BOOT_ID`` the kernel's boot id
(``/proc/sys/kernel/random/boot_id``; ``-`` where there is none, which
proves nothing), ``PID`` the process id and ``NONCE`` a random token per
runner (several runners may live in one process).

An owner is provably dead only when it ran on this host in this boot of
the kernel and either its process is gone, or its pid is this very
process, which no longer runs that owner (a restart that got the same
pid, as in a container). A pid reused by an unrelated process counts as
alive, and anything else (another host, another boot, a name in another
format) is not provably dead: those workflows wait for their leases,
which is always safe. Freeing bumps the generation, so even a wrong
proof could not make two conductors act: the fenced one stops at its
next write.
"""

import collections
import functools
import os
import re
import threading
import uuid

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'

#: Width of the ``owner`` column of the workflows table.
MAX_OWNER_LENGTH = 255

#: Written instead of a boot id where the kernel has none to read.
NO_BOOT_ID = '-'

_BOOT_ID_RE = re.compile(r'^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$')
_PID_RE = re.compile(r'^[1-9][0-9]{0,9}$')
_NONCE_RE = re.compile(r'^[0-9a-f]{8,32}$')


class OwnerName(collections.namedtuple('OwnerName', 'host boot_id pid nonce')):
    """A parsed owner name; ``boot_id`` is None when it was unknown."""

    __slots__ = ()

    def __str__(self):
        return '%s:%s:%d:%s' % (
            self.host,
            self.boot_id or NO_BOOT_ID,
            self.pid,
            self.nonce,
        )


@functools.cache
def boot_id() -> 'str | None':
    """This kernel's boot id (read once per process), or None when the
    system has none (non-Linux): then no owner can be proven dead."""
    try:
        with open(BOOT_ID_PATH) as f:
            value = f.read().strip().lower()
    except OSError:
        return None
    return value if _BOOT_ID_RE.match(value) else None


def new_owner_name(host: str) -> str:
    """A new, unique owner name for a runner of this process on ``host``.

    A host too long for the owner column with the rest is cut, and the
    name then carries no boot id: it still identifies the owner, but
    can never be proven dead (its workflows wait for their leases).
    """
    name = OwnerName(host, boot_id(), os.getpid(), uuid.uuid4().hex[:8])
    excess = len(str(name)) - MAX_OWNER_LENGTH
    if excess > 0:
        name = name._replace(boot_id=None)
        excess = len(str(name)) - MAX_OWNER_LENGTH
        name = name._replace(host=host[: len(host) - excess])
        LOG.warning(
            'Host name %r is too long for a provable workflow '
            'owner name; after a crash its workflows wait for '
            'their leases to expire',
            host,
        )
    return str(name)


def parse_owner_name(owner: str) -> 'OwnerName | None':
    """The :class:`OwnerName` in ``owner``, or None if it has another
    form (an older format, a hand-made name, garbage)."""
    if not isinstance(owner, str):
        return None
    parts = owner.rsplit(':', 3)
    if len(parts) != 4:
        return None
    host, boot, pid, nonce = parts
    if not host or not _PID_RE.match(pid) or not _NONCE_RE.match(nonce):
        return None
    if boot != NO_BOOT_ID and not _BOOT_ID_RE.match(boot):
        return None
    return OwnerName(
        host, None if boot == NO_BOOT_ID else boot, int(pid), nonce
    )


# -- owners alive in this process ------------------------------------------
_live_lock = threading.Lock()
_live_owners = set()


def register(owner: str):
    """Record that a runner of this process runs as ``owner``: it must
    never be taken for a dead incarnation that had this process's pid."""
    with _live_lock:
        _live_owners.add(owner)


def unregister(owner: str):
    """``owner``'s runner stopped and runs nothing any more."""
    with _live_lock:
        _live_owners.discard(owner)


def live_owners() -> frozenset:
    """Owner names of the runners alive in this process."""
    with _live_lock:
        return frozenset(_live_owners)


# -- proof of death ----------------------------------------------------------
def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists. Signal 0 checks without
    sending anything; a process of another user (EPERM) is alive, and so
    is anything that cannot be told apart from alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def death_proof(owner: str, host: str) -> 'str | None':
    """Why ``owner`` is certainly dead, or None when that cannot be
    proven. ``host`` is the host of the conductor asking: only owners of
    its own host, in this boot of the kernel, can be proven dead.
    """
    me = boot_id()
    name = parse_owner_name(owner)
    if me is None or name is None or name.host != host or name.boot_id != me:
        return None
    if name.pid == os.getpid():
        # This process, yet not one of its live runners: an earlier
        # incarnation that had the same pid (a container restarted), or
        # a runner here that stopped.
        if owner in live_owners():
            return None
        return 'pid %d is this process, which no longer runs it' % name.pid
    if pid_alive(name.pid):
        # Maybe our predecessor, maybe a new process that reused its pid:
        # we cannot tell, so the lease decides.
        return None
    return 'process %d is gone (same host, same boot)' % name.pid


def free_dead_owners(backend, host: str) -> dict:
    """Free every unfinished workflow held by a provably dead owner of
    ``host``; -> {owner: number of workflows freed}.

    Each dead owner's workflows are freed in one statement (owner NULL,
    generation and adoptions + 1, lease expired), so the next sweep
    adopts them through the ordinary claim. Workflows waiting without an
    owner (a remote step in flight) need nothing.
    """
    owners = backend.stats().get('by_owner', {})
    freed = {}
    for owner in sorted(o for o in owners if o):
        reason = death_proof(owner, host)
        if reason is None:
            continue
        count = backend.free_owned_by(owner)
        if count:
            LOG.info(
                'Freed %d workflow(s) of %s, a dead incarnation of '
                'this conductor: %s',
                count,
                owner,
                reason,
            )
            freed[owner] = count
    return freed
