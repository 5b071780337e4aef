"""The version of this nova, from the package metadata (pbr)."""

import pbr.version

version_info = pbr.version.VersionInfo('nova')


def version_string():
    try:
        return version_info.version_string()
    except Exception:
        # Running from a tree that is not installed (e.g. docs builds).
        return 'unknown'
