"""Local authorization data: the Authorization Cache and the Local Authorization List (OCPP 1.6
sections 3.5.1 to 3.5.3, 5.15 SendLocalList). Both keep IdTagInfo by idTag, compared without case."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import clock


def _effective(info: dict) -> dict:
    """An Accepted entry whose expiryDate has passed is Expired (section 3.5.1)."""
    expiry = clock.parse_time(info.get("expiryDate"), default_zone=clock.UTC)
    if info.get("status") == "Accepted" and expiry is not None and expiry <= clock.now():
        return {**info, "status": "Expired"}
    return info


@dataclass
class LocalAuth:
    cache: dict[str, dict] = field(default_factory=dict)
    local_list: dict[str, dict] = field(default_factory=dict)
    list_version: int = 0
    fail_next_update: bool = False
    """Control action local_list_failure: the next SendLocalList cannot be stored (TC_043_3)."""

    def lookup(self, id_tag: str, *, list_enabled: bool, cache_enabled: bool) -> dict | None:
        """IdTagInfo known locally; the local list takes precedence over the cache (3.5.3)."""
        key = id_tag.casefold()
        if list_enabled and key in self.local_list:
            return _effective(self.local_list[key])
        if cache_enabled and key in self.cache:
            return _effective(self.cache[key])
        return None

    def remember(self, id_tag: str, info: dict, *, cache_enabled: bool) -> None:
        """Update the cache from an IdTagInfo the CSMS sent (Authorize, Start/StopTransaction)."""
        if cache_enabled and isinstance(info, dict) and "status" in info:
            self.cache[id_tag.casefold()] = dict(info)

    def clear_cache(self) -> None:
        self.cache.clear()

    def update(self, version: int, update_type: str, entries: list[dict] | None,
               max_length: int | None) -> str:
        """SendLocalList: returns the UpdateStatus."""
        if self.fail_next_update:
            self.fail_next_update = False
            return "Failed"
        entries = entries or []
        if update_type == "Differential":
            if version <= self.list_version:
                return "VersionMismatch"
            new = dict(self.local_list)
            for entry in entries:
                key = entry["idTag"].casefold()
                if "idTagInfo" in entry:
                    new[key] = dict(entry["idTagInfo"])
                else:
                    new.pop(key, None)  # an entry without idTagInfo removes the idTag
        else:
            new = {e["idTag"].casefold(): dict(e["idTagInfo"]) for e in entries
                   if "idTagInfo" in e}
        if max_length is not None and len(new) > max_length:
            return "Failed"
        self.local_list, self.list_version = new, version
        return "Accepted"
