"""ORM classes. Ids are 19-digit numeric strings, as the venue shows them; money is Decimal (TEXT)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from simulator.storage.types import DecimalText

Id = String(19)


class Base(DeclarativeBase):
    type_annotation_map = {Decimal: DecimalText()}


class SimMeta(Base):
    """Key/value facts about the database itself (schema version, when fixtures were seeded)."""

    __tablename__ = "sim_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SimSequence(Base):
    """Counters behind the 19-digit ids: deterministic, so replays give the same ids."""

    __tablename__ = "sim_sequence"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SimClock(Base):
    """The market clock's state, shared by every worker process (one row, id 1)."""

    __tablename__ = "sim_clock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    market_anchor_ms: Mapped[int] = mapped_column(BigInteger)
    transport_anchor_ms: Mapped[int] = mapped_column(BigInteger)
    speed: Mapped[Decimal]


class Coin(Base):
    __tablename__ = "coins"
    coin_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    coin_name: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)  # the fixture object, JSON, decimals as strings


class Instrument(Base):
    __tablename__ = "instruments"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    base_asset: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    quote_asset: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    status: Mapped[str] = mapped_column(String(16))
    definition: Mapped[str] = mapped_column(Text)  # exchangeInfo symbol object with its filters, JSON


class FeeTier(Base):
    __tablename__ = "fee_tiers"
    vip_level: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    vip_level: Mapped[int] = mapped_column(Integer, default=0)
    accounts: Mapped[list[Account]] = relationship(back_populates="user", order_by="Account.id")
    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="user", order_by="ApiKey.created_ms")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("user_id", "account_type", "account_index"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    account_type: Mapped[int] = mapped_column(Integer)
    account_index: Mapped[int] = mapped_column(Integer)
    user: Mapped[User] = relationship(back_populates="accounts")


class ApiKey(Base):
    __tablename__ = "api_keys"
    api_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    key_type: Mapped[str] = mapped_column(String(8))
    permissions: Mapped[str] = mapped_column(String(64))  # comma separated, sorted
    ip_whitelist: Mapped[str] = mapped_column(Text, default="")  # comma separated networks; empty: any
    created_ms: Mapped[int] = mapped_column(BigInteger)
    user: Mapped[User] = relationship(back_populates="api_keys")


class Balance(Base):
    __tablename__ = "balances"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    asset: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"), primary_key=True)
    free: Mapped[Decimal]
    locked: Mapped[Decimal]


class LedgerEntry(Base):
    """One row per balance change, written in the same transaction as the change."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_account_time", "account_id", "created_ms"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    asset: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    flow_type: Mapped[int] = mapped_column(Integer)
    change: Mapped[Decimal]
    total: Mapped[Decimal]  # the balance's total after this change
    created_ms: Mapped[int] = mapped_column(BigInteger)
    remark: Mapped[str] = mapped_column(String(128), default="")


# --- Wallet: transfers between a user's accounts, deposits, withdrawals, fiat orders ------------------


class Transfer(Base):
    """POST /api/v1/account/assetTransfer: both ledger entries are written with it."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_user_client", "user_id", "client_order_id"),)
    order_id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    client_order_id: Mapped[str] = mapped_column(String(64), default="")
    from_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    to_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    coin: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    quantity: Mapped[Decimal]
    remark: Mapped[str] = mapped_column(String(128), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)  # market time
    transport_ms: Mapped[int] = mapped_column(BigInteger)  # wall clock: the once-per-second rule


class Deposit(Base):
    """An on-chain deposit into a custody account (created by the admin API or CLI); `due_ms` is the market
    time of its next step (None: waiting for address authentication, or final)."""

    __tablename__ = "deposits"
    __table_args__ = (Index("ix_deposits_account_time", "account_id", "created_ms"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    coin: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    chain_type: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(128))
    quantity: Mapped[Decimal]
    tx_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[int] = mapped_column(Integer)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    due_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class Withdrawal(Base):
    """POST /api/v1/account/withdraw: its quantity is locked until it succeeds (then debited) or fails or is
    canceled (then released); `due_ms` is when it succeeds unless the admin ends it first."""

    __tablename__ = "withdrawals"
    __table_args__ = (Index("ix_withdrawals_account_client", "account_id", "client_order_id"),)
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "W" + digits, as the venue's
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    coin: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    chain_type: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(128))
    memo: Mapped[str] = mapped_column(String(32), default="")
    platform: Mapped[str] = mapped_column(String(16), default="")
    remark: Mapped[str] = mapped_column(String(128), default="")
    quantity: Mapped[Decimal]
    fee: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16))
    tx_id: Mapped[str] = mapped_column(String(128), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    due_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class FiatOrder(Base):
    """A fiat deposit or withdrawal of a fiat account (created by the admin API or CLI)."""

    __tablename__ = "fiat_orders"
    __table_args__ = (Index("ix_fiat_orders_account_time", "account_id", "created_ms"),)
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "NFD"/"NFW" + digits
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(String(8))  # "deposit" or "withdraw"
    asset: Mapped[str] = mapped_column(ForeignKey("coins.coin_id"))
    gross_amount: Mapped[Decimal]
    fee: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    remark: Mapped[str] = mapped_column(String(128), default="")
    client_order_id: Mapped[str] = mapped_column(String(64), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    due_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class AddressDeclaration(Base):
    """POST /api/v1/account/authAddress: who sent a deposit that waits for address authentication."""

    __tablename__ = "address_declarations"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    tx_id: Mapped[str] = mapped_column(String(128))
    sender_first_name: Mapped[str] = mapped_column(String(128), default="")
    sender_last_name: Mapped[str] = mapped_column(String(128), default="")
    institutional_name: Mapped[str] = mapped_column(String(256), default="")
    exchange_name: Mapped[str] = mapped_column(String(64))
    is_address_owner: Mapped[int] = mapped_column(Integer)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class WithdrawAddress(Base):
    """A key's withdrawal whitelist: a key with any rows may withdraw only to these addresses."""

    __tablename__ = "withdraw_addresses"
    api_key: Mapped[str] = mapped_column(ForeignKey("api_keys.api_key"), primary_key=True)
    address: Mapped[str] = mapped_column(String(128), primary_key=True)


# --- Trading: orders, fills and what the engine remembers between requests ----------------------------


class SymbolState(Base):
    """Per symbol: how far the engine has applied the recording (market time, ms), and the lock row that
    serialises matching of the symbol across processes (every engine transaction locks it first)."""

    __tablename__ = "symbol_state"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    watermark_ms: Mapped[int] = mapped_column(BigInteger)
    last_price: Mapped[Decimal | None]  # of the last recorded or simulated trade applied
    last_price_ms: Mapped[int | None] = mapped_column(
        BigInteger
    )  # its market time (None: made before it was kept)


class Order(Base):
    """An order, its progress and the funds it still holds (`locked_asset`, `locked_left`).

    With an order latency, `match_ms` is the market time a received order reaches the matcher and
    `cancel_ms` the time a requested cancel takes effect; each is NULL once done (or when never set)."""

    __tablename__ = "orders"
    __table_args__ = (
        # not unique: a client order id may be used again once its order is finished (only two *open*
        # orders may not share one, -1141)
        Index("ix_orders_client_id", "account_id", "client_order_id"),
        Index("ix_orders_resting", "symbol", "resting", "side", "price_key"),
        Index("ix_orders_account", "account_id", "symbol", "created_ms"),
        # the open-order count every order checks (maxEntrustNum) reads the working ones only, not every
        # order the account ever placed on the symbol
        Index("ix_orders_working", "account_id", "symbol", "status"),
        # openOrders of every symbol: the working orders by status, not the whole history
        Index("ix_orders_account_status", "account_id", "status", "sequence"),
        # tradeOrders (`services.orders.finished_orders`): a narrow window of creation times of every symbol
        # (of one: ix_orders_account); a wide one walked by id, newest first
        Index("ix_orders_account_time", "account_id", "created_ms"),
        Index("ix_orders_account_sequence", "account_id", "sequence"),
        Index("ix_orders_arriving", "symbol", "match_ms"),
        Index("ix_orders_cancelling", "symbol", "cancel_ms"),
    )
    order_id: Mapped[str] = mapped_column(Id, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    client_order_id: Mapped[str] = mapped_column(String(255))
    symbol: Mapped[str] = mapped_column(ForeignKey("instruments.symbol"))
    side: Mapped[str] = mapped_column(String(4))
    type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal | None]
    # the price as fixed-width text that sorts as the number does (storage.types.price_key): lets SQL find
    # the resting orders a taker can reach without reading the rest of the book
    price_key: Mapped[str | None] = mapped_column(String(48), nullable=True, default=None)
    quantity: Mapped[Decimal | None]
    amount: Mapped[Decimal | None]
    stp_mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))
    cancel_reason: Mapped[str] = mapped_column(String(20), default="")
    executed_qty: Mapped[Decimal]
    executed_quote: Mapped[Decimal]
    queue_ahead: Mapped[Decimal]
    resting: Mapped[int] = mapped_column(Integer)  # 1 while it rests in the book
    sequence: Mapped[int] = mapped_column(BigInteger)  # time priority among resting orders
    locked_asset: Mapped[str] = mapped_column(String(32))
    locked_left: Mapped[Decimal]
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    match_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    cancel_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    # with an order latency, the place of the cancel asked for among the requests received, drawn from the id
    # counter as an order's `sequence` is: at one millisecond, orders and cancels reach the matcher in the
    # order they were received. NULL: no cancel asked for, or one received by an earlier version
    cancel_sequence: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    # the market time of the last recorded event that moved its queue_ahead (None: never moved); a market
    # clock set back before it would replay those events on a queue they already moved
    queue_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)


class Fill(Base):
    """One side of a trade. Both sides of a match between two simulated orders share `ticket_id`; a fill
    against recorded liquidity has no counter order."""

    __tablename__ = "fills"
    __table_args__ = (
        Index("ix_fills_account", "account_id", "symbol", "time"),
        Index("ix_fills_symbol_time", "symbol", "time"),  # the simulated prints of /quote/v1/trades
        # account/trades (`services.fills.account_trades`): a narrow time window of every symbol (of one:
        # ix_fills_account); a wide one walked by id, newest first (one symbol's too: each index more costs
        # every fill its update)
        Index("ix_fills_account_time", "account_id", "time"),
        Index("ix_fills_account_id", "account_id", "id"),
    )
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(Id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal]
    qty: Mapped[Decimal]
    quote: Mapped[Decimal]
    is_maker: Mapped[int] = mapped_column(Integer)
    fee_asset: Mapped[str] = mapped_column(String(32))
    fee_amount: Mapped[Decimal]
    counter_order_id: Mapped[str | None] = mapped_column(Id)
    time: Mapped[int] = mapped_column(BigInteger)
    # Whether and where this fill is its trade's print on the public tape, among the recorded prints of its
    # millisecond: 1 after them (a simulated taker's, a resting order's filled by a bar: no recorded print
    # shows that trade), -1 before them (a resting order's filled by a snapshot, which the engine applies
    # before the millisecond's prints), 0 not printed (the maker side of a simulated taker's ticket, a resting
    # order's filled out of a recorded print, which shows it). NULL: written by an earlier version, which
    # printed the takers' fills only (`services.trading.PRINTED_FILLS`)
    printed: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)


class TakenLiquidity(Base):
    """Per symbol, the recorded liquidity simulated takers used from the snapshot they last took from: it
    stays taken until a newer snapshot. One row a symbol, not one a level, so an order walking 20 levels
    updates one row (the order path reads and writes it through `storage.records.TakenRecord`)."""

    __tablename__ = "taken_liquidity"
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    snapshot_time: Mapped[int] = mapped_column(BigInteger)
    levels: Mapped[str] = mapped_column(Text)  # "SIDE price qty" per level, ";" between (services.taken)


class OutboxEvent(Base):
    """Append-only events (order update, trade, balance change) for the streams, written in the same
    transaction as the change; `id` is their order."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_account", "account_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(19))
    kind: Mapped[str] = mapped_column(String(16))  # "order", "trade", "balance"
    time: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)  # JSON, decimals as strings


# --- Market data (simulator.marketdata writes and reads these with Core statements) ---------------------
# Prices and sizes are exact decimal text; times are ms since the epoch. Each table's primary key (or unique
# index) is both the import's idempotency key and the index behind "latest at or before t" and "everything in
# (t0, t1]". Tables of small rows are WITHOUT ROWID on SQLite: one b-tree, so bulk imports write half as much.
# source_id is not a foreign key on purpose: checking it per row would cost a third of the import speed.

WITHOUT_ROWID = {"sqlite_with_rowid": False}


class MarketDataSource(Base):
    """Where rows came from: a venue and a file (absolute path) or a recorder."""

    __tablename__ = "md_sources"
    __table_args__ = (UniqueConstraint("venue", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)


class MarketKline(Base):
    __tablename__ = "md_klines"
    __table_args__ = WITHOUT_ROWID
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    open_time: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    close_time: Mapped[int] = mapped_column(BigInteger)
    open: Mapped[str] = mapped_column(Text)
    high: Mapped[str] = mapped_column(Text)
    low: Mapped[str] = mapped_column(Text)
    close: Mapped[str] = mapped_column(Text)
    volume: Mapped[str] = mapped_column(Text)
    quote_volume: Mapped[str | None] = mapped_column(Text)
    trade_count: Mapped[int | None] = mapped_column(BigInteger)
    taker_buy_base: Mapped[str | None] = mapped_column(Text)
    taker_buy_quote: Mapped[str | None] = mapped_column(Text)
    is_final: Mapped[int] = mapped_column(Integer)  # 1: the bar is complete
    source_id: Mapped[int] = mapped_column(Integer)


class MarketTrade(Base):
    """Ties within a millisecond are ordered by venue, then trade id (the key's order)."""

    __tablename__ = "md_trades"
    __table_args__ = WITHOUT_ROWID
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    time: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    venue: Mapped[str] = mapped_column(String(32), primary_key=True)
    trade_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price: Mapped[str] = mapped_column(Text)
    qty: Mapped[str] = mapped_column(Text)
    buyer_is_maker: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[int] = mapped_column(Integer)


class MarketDepth(Base):
    """A book snapshot: the top N levels per side as JSON [[price, qty], ...], best first. Rows are large,
    so this one keeps its rowid and a separate unique index."""

    __tablename__ = "md_depth"
    __table_args__ = (Index("ux_md_depth", "symbol", "time", unique=True),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32))
    time: Mapped[int] = mapped_column(BigInteger)
    bids: Mapped[str] = mapped_column(Text)
    asks: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(Integer)


class MarketBbo(Base):
    __tablename__ = "md_bbo"
    __table_args__ = WITHOUT_ROWID
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    time: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bid_price: Mapped[str] = mapped_column(Text)
    bid_qty: Mapped[str] = mapped_column(Text)
    ask_price: Mapped[str] = mapped_column(Text)
    ask_qty: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(Integer)
