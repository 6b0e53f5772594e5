"""Tables of the administrative areas: the polygons, and which area each station and exchange
lies in."""

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, UniqueConstraint

from pollnet.store.schema.base import metadata

areas = Table(
    "areas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name_fa", String(300), nullable=False, default=""),
    Column("name_en", String(300), nullable=False, default=""),
    Column("number", Integer, nullable=True),
    Column("osm_relation", BigInteger, nullable=True),
    Column("geometry", Text, nullable=False),  # GeoJSON (Multi)Polygon, WGS84
    UniqueConstraint("kind", "code"),
)

area_links = Table(
    "area_links",
    metadata,
    Column("subject", String(16), primary_key=True),  # station | exchange
    Column("code", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("area_code", String(64), nullable=False, index=True),
    Column("source", String(16), nullable=False),  # file | polygon
)
