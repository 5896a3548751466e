"""Web addresses as keys to compare, and one regex for many words. Pure Python."""
from __future__ import annotations

import re
import unicodedata


def trie_pattern(words: list[str]) -> str:
    """One regex for many words that prefers the longest at each position,
    without trying every word at every position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alternatives = []
        for ch, child in sorted(node.items()):
            if not ch:
                continue
            chain = re.escape(ch)
            while len(child) == 1 and "" not in child:  # collapse chains: recursion stays shallow
                (ch, child), = child.items()
                chain += re.escape(ch)
            alternatives.append(chain + build(child))
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


# Hosts many groups share: there the path, not the host, identifies a group.
_SHARED_HOSTS = frozenset((
    "facebook.com", "instagram.com", "x.com", "twitter.com", "note.com", "ameblo.jp", "youtube.com",
    "line.me", "hatenablog.com", "blogspot.com", "wixsite.com", "jimdofree.com", "fc2.com", "goo.ne.jp",
    "livedoor.blog", "peraichi.com", "studio.site", "canpan.info", "gmail.com", "yahoo.co.jp",
    "ymail.ne.jp", "outlook.jp", "outlook.com", "hotmail.com", "hotmail.co.jp", "icloud.com", "me.com",
    "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com",
    "biglobe.ne.jp", "ocn.ne.jp", "so-net.ne.jp",
))


def url_key(url: str) -> str:
    """'https://www.Minato-NPO.org/about/' -> 'minato-npo.org/about'."""
    key = unicodedata.normalize("NFKC", url or "").strip().lower()
    key = re.sub(r"^[a-z]+://", "", key).removeprefix("www.")
    return key.split("?")[0].split("#")[0].rstrip("/")


def own_url_keys(website_url: str, emails: list[str]) -> list[str]:
    """The group's own web addresses: its website's host (or, on a shared
    platform, host and path) and its own mail domains."""
    keys = []
    website = url_key(website_url)
    if website:
        host = website.split("/")[0]
        keys.append(website if host in _SHARED_HOSTS else host)
    for email in emails:
        domain = url_key(email).rpartition("@")[2]
        if "." in domain and domain not in _SHARED_HOSTS:
            keys.append(domain)
    return [key for key in keys if len(key) >= 4 and "." in key]
