"""The plugin's table."""

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core import plugin_api as crm


class Warranty(crm.Base):
    __tablename__ = "warranties"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str] = mapped_column(String(120))
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(crm.UTCDateTime())
