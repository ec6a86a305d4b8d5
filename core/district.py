"""The district civic serves: Jung-gu, Seoul. Its administrative dongs are shared by every process
(a budget project's dong, a complaint's location, an advertisement's site)."""

from __future__ import annotations

from core.errors import InvalidInput

# Jung-gu's 15 administrative dongs (행정동), in the district office's order
DONGS: tuple[str, ...] = (
    "소공동", "회현동", "명동", "필동", "장충동", "광희동", "을지로동", "신당동",
    "다산동", "약수동", "청구동", "신당5동", "동화동", "황학동", "중림동",
)
DONG_NAMES_EN: dict[str, str] = {
    "소공동": "Sogong-dong", "회현동": "Hoehyeon-dong", "명동": "Myeong-dong", "필동": "Pil-dong",
    "장충동": "Jangchung-dong", "광희동": "Gwanghui-dong", "을지로동": "Euljiro-dong", "신당동": "Sindang-dong",
    "다산동": "Dasan-dong", "약수동": "Yaksu-dong", "청구동": "Cheonggu-dong", "신당5동": "Sindang 5-dong",
    "동화동": "Donghwa-dong", "황학동": "Hwanghak-dong", "중림동": "Jungnim-dong",
}
# what a project or report for the whole district names instead of one dong
WHOLE_DISTRICT = "중구 전체"


def check_dong(name: str, *, field: str = "dong", whole_district: bool = False) -> str:
    """``name`` (stripped) if it is one of Jung-gu's dongs (or the whole district, where allowed);
    otherwise ``InvalidInput`` that lists them."""
    dong = (name or "").strip()
    if dong in DONGS or (whole_district and dong == WHOLE_DISTRICT):
        return dong
    choices = ", ".join(DONGS + ((WHOLE_DISTRICT,) if whole_district else ()))
    raise InvalidInput(f"{dong!r} is not a dong of Jung-gu; choose one of: {choices}.", field=field)
