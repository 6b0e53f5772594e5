"""Tables of the registry: districts, sites, stations, exchanges, fiber, towers, devices."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pollnet.store.schema.base import metadata

agencies = Table(
    "agencies",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name_en", String(200), nullable=False),
    Column("name_fa", String(200), nullable=False),
)

districts = Table(
    "districts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("number", Integer, nullable=False),
    Column("name", String(200), nullable=False, default=""),
    UniqueConstraint("kind", "number"),
)

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(300), nullable=False),
    Column("address", String(500), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("district", Integer, nullable=False),
    Column("education_district", Integer, nullable=True),
    UniqueConstraint("name", "address"),
)

stations = Table(
    "stations",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False, index=True),
    Column("district", Integer, nullable=False, index=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("voters", Integer, nullable=False),
    Column("devices", Integer, nullable=False),
    Column("critical", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

exchanges = Table(
    "exchanges",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("pon_ports", Integer, nullable=False),
    Column("operator", String(64), nullable=False, server_default=""),
    Column("county", String(100), nullable=True),
)

existing_fiber = Table(
    "existing_fiber",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("geometry", Text, nullable=False),  # GeoJSON LineString or MultiLineString, WGS84
    Column("kind", String(16), nullable=False, server_default="duct"),
    Column("spare_fibres", Integer, nullable=True),
    Column("free_ducts", Integer, nullable=True),
)

towers = Table(
    "towers",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("operator", String(64), nullable=False),
    Column("radio", String(8), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("height_m", Float, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("station_code", String(64), ForeignKey("stations.code"), nullable=False, index=True),
)
