"""The shipped taxonomy of field complaints (응답소 현장민원) for Seoul Jung-gu.

The source document counts complaints in seven fields (its table: 교통, 도로, 청소, 치수방재,
가로정비, 보건환경, 기타) and speaks of 53 item types; the items below are a plausible set of 53
spread over those seven fields, each with the department responsible and a service-level deadline
in hours. An administrator changes any of it later through taxonomy events.
"""

from __future__ import annotations

from core import DONGS  # Jung-gu's 15 administrative dongs (re-exported for this plugin)

JURISDICTION_ID = "junggu.seoul.kr"

# Field officers cover zones of dongs; the zone decides the default route.
ZONES: dict[str, tuple[str, ...]] = {
    "west": ("소공동", "회현동", "명동", "필동", "중림동"),
    "centre": ("장충동", "광희동", "을지로동", "황학동", "동화동"),
    "east": ("신당동", "다산동", "약수동", "청구동", "신당5동"),
}

# code: (Korean name, English name), in the column order of the document's table.
FIELDS: dict[str, tuple[str, str]] = {
    "traffic": ("교통", "Traffic"),
    "roads": ("도로", "Roads"),
    "cleaning": ("청소", "Cleaning"),
    "flood_control": ("치수방재", "Flood control"),
    "street_order": ("가로정비", "Street order"),
    "health_env": ("보건환경", "Health and environment"),
    "other": ("기타", "Other"),
}

DEPARTMENTS: dict[str, tuple[str, str]] = {
    "traffic_admin": ("교통행정과", "Traffic Administration"),
    "parking": ("주차관리과", "Parking Management"),
    "construction": ("건설관리과", "Construction Management"),
    "sanitation": ("청소행정과", "Sanitation"),
    "flood": ("치수과", "Flood Control"),
    "city_design": ("도시디자인과", "City Design"),
    "environment": ("환경과", "Environment"),
    "public_health": ("보건위생과", "Public Health"),
    "parks": ("공원녹지과", "Parks and Greenery"),
    "audit": ("감사담당관", "Audit Office"),
}

# code: (field, Korean name, English name, department, SLA hours)
ITEMS: dict[str, tuple[str, str, str, str, int]] = {
    # 교통 (10)
    "illegal_parking": ("traffic", "불법 주정차", "Illegal parking", "parking", 4),
    "sidewalk_parking": ("traffic", "보도 위 주차", "Parking on the pavement", "parking", 4),
    "abandoned_vehicle": ("traffic", "방치 차량", "Abandoned vehicle", "parking", 168),
    "traffic_sign": ("traffic", "교통표지판 파손", "Damaged traffic sign", "traffic_admin", 72),
    "traffic_light": ("traffic", "신호등 고장", "Traffic light fault", "traffic_admin", 24),
    "road_marking": ("traffic", "차선·노면표시 불량", "Faded road markings", "traffic_admin", 168),
    "bus_stop": ("traffic", "버스정류장 시설 파손", "Damaged bus stop", "traffic_admin", 72),
    "taxi_touting": ("traffic", "택시 불법 영업", "Taxi touting", "traffic_admin", 24),
    "abandoned_bicycle": ("traffic", "방치 자전거", "Abandoned bicycle", "traffic_admin", 168),
    "pedestrian_fence": ("traffic", "보행안전펜스 파손", "Damaged pedestrian fence", "traffic_admin", 72),
    # 도로 (9)
    "pothole": ("roads", "도로 파임(포트홀)", "Pothole", "construction", 24),
    "sidewalk_block": ("roads", "보도블록 파손", "Broken paving", "construction", 72),
    "manhole_cover": ("roads", "맨홀 뚜껑 파손", "Damaged manhole cover", "construction", 12),
    "road_subsidence": ("roads", "도로 침하", "Road subsidence", "construction", 12),
    "kerb_damage": ("roads", "경계석 파손", "Damaged kerb", "construction", 168),
    "road_obstacle": ("roads", "도로 위 장애물", "Obstacle on the road", "construction", 6),
    "street_light": ("roads", "가로등 고장", "Street light out", "construction", 48),
    "road_works_safety": ("roads", "공사장 안전 미흡", "Unsafe road works", "construction", 24),
    "guard_rail": ("roads", "가드레일 파손", "Damaged guard rail", "construction", 72),
    # 청소 (7)
    "illegal_dumping": ("cleaning", "쓰레기 무단투기", "Fly-tipping", "sanitation", 48),
    "uncollected_waste": ("cleaning", "쓰레기 미수거", "Uncollected rubbish", "sanitation", 24),
    "food_waste": ("cleaning", "음식물쓰레기 처리 불량", "Food waste left out", "sanitation", 24),
    "bulky_waste": ("cleaning", "대형폐기물 방치", "Bulky waste left", "sanitation", 72),
    "street_litter": ("cleaning", "가로 쓰레기", "Litter on the street", "sanitation", 24),
    "public_toilet": ("cleaning", "공중화장실 청결 불량", "Dirty public toilet", "sanitation", 24),
    "dead_animal": ("cleaning", "동물 사체", "Dead animal", "sanitation", 6),
    # 치수방재 (6)
    "drain_blocked": ("flood_control", "빗물받이 막힘", "Blocked gully", "flood", 24),
    "drain_cover": ("flood_control", "빗물받이 덮개 파손", "Broken gully grate", "flood", 24),
    "sewer_odour": ("flood_control", "하수구 악취", "Sewer smell", "flood", 72),
    "sewer_backflow": ("flood_control", "하수 역류", "Sewer backflow", "flood", 12),
    "flooding": ("flood_control", "침수", "Flooding", "flood", 6),
    "snow_ice": ("flood_control", "제설·결빙", "Snow and ice", "flood", 12),
    # 가로정비 (8)
    "street_vendor": ("street_order", "불법 노점", "Illegal street stall", "construction", 72),
    "illegal_banner": ("street_order", "불법 현수막", "Illegal banner", "city_design", 24),
    "illegal_signboard": ("street_order", "불법 간판", "Illegal signboard", "city_design", 168),
    "flyers": ("street_order", "불법 전단지", "Illegal flyers", "city_design", 24),
    "sidewalk_goods": ("street_order", "보도 적치물", "Goods piled on the pavement", "construction", 24),
    "street_furniture": ("street_order", "가로시설물 파손", "Damaged street furniture", "construction", 72),
    "bollard": ("street_order", "볼라드 파손", "Damaged bollard", "construction", 72),
    "outdoor_display": ("street_order", "불법 옥외 진열", "Illegal outdoor display", "construction", 72),
    # 보건환경 (7)
    "noise": ("health_env", "생활 소음", "Noise", "environment", 24),
    "construction_dust": ("health_env", "공사장 비산먼지", "Construction dust", "environment", 24),
    "smoking": ("health_env", "금연구역 흡연", "Smoking in a no-smoking zone", "public_health", 24),
    "food_hygiene": ("health_env", "음식점 위생 불량", "Restaurant hygiene", "public_health", 72),
    "idling": ("health_env", "자동차 공회전", "Engine idling", "environment", 4),
    "odour": ("health_env", "악취", "Bad smell", "environment", 72),
    "pests": ("health_env", "해충 방역", "Pests", "public_health", 72),
    # 기타 (6)
    "street_tree": ("other", "가로수 정비", "Street tree", "parks", 168),
    "park_facility": ("other", "공원시설 파손", "Damaged park facility", "parks", 72),
    "playground": ("other", "놀이터 시설 파손", "Damaged playground", "parks", 48),
    "stray_animal": ("other", "유기 동물", "Stray animal", "environment", 24),
    "graffiti": ("other", "낙서", "Graffiti", "city_design", 168),
    "other": ("other", "기타 현장 불편", "Other street problem", "audit", 72),
}


def default_taxonomy() -> dict:
    """The taxonomy as one JSON value (the payload of the taxonomy's first event)."""
    routes = {
        f"dept:{dept}/{dong}": f"{dept}.{zone}"
        for dept in DEPARTMENTS
        for zone, dongs in ZONES.items()
        for dong in dongs
    }
    return {
        "jurisdiction_id": JURISDICTION_ID,
        "dongs": list(DONGS),
        "fields": {c: {"name_ko": ko, "name_en": en} for c, (ko, en) in FIELDS.items()},
        "departments": {c: {"name_ko": ko, "name_en": en} for c, (ko, en) in DEPARTMENTS.items()},
        "items": {
            c: {"field": f, "name_ko": ko, "name_en": en, "department": d, "sla_hours": h, "active": True}
            for c, (f, ko, en, d, h) in ITEMS.items()
        },
        "routes": routes,
    }
