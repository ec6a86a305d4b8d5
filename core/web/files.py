"""Files people download: CSV that Excel opens with its Korean intact."""

from __future__ import annotations

from litestar import Response

# Excel reads a CSV file as the system's code page (CP949 in Korea) unless it starts with a BOM
BOM = "\ufeff"


def csv_response(text: str, filename: str | None = None) -> Response[bytes]:
    """``text`` as a UTF-8 CSV download with a BOM; ``filename`` makes it an attachment. The
    media type is given without a charset: Litestar adds ``charset=utf-8`` to text types itself."""
    headers = {"content-disposition": f'attachment; filename="{filename}"'} if filename else {}
    body = text if text.startswith(BOM) else BOM + text
    return Response(body.encode("utf-8"), media_type="text/csv", headers=headers)
