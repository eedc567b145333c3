-- Timestamps are UTC milliseconds since the epoch; business dates are the store's local
-- day as 'YYYY-MM-DD'; money is integer minor units (cents); flags are 0/1 integers.
-- (The same intent as migrations/postgres, in SQLite's dialect.)

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    full_name     TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'cashier')),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
    token_id   TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE products (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    sku              TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    category_id      INTEGER REFERENCES categories (id),
    variation        TEXT,
    price_cents      INTEGER NOT NULL CHECK (price_cents >= 0),
    cost_price_cents INTEGER NOT NULL CHECK (cost_price_cents >= 0),
    stock            INTEGER NOT NULL CHECK (stock >= 0),
    is_active        INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX products_category ON products (category_id);

CREATE TABLE sales (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at   INTEGER NOT NULL,
    business_date TEXT   NOT NULL,
    cashier_id   INTEGER REFERENCES users (id),
    total_cents  INTEGER NOT NULL CHECK (total_cents >= 0),
    paid_cents   INTEGER NOT NULL CHECK (paid_cents >= 0),
    change_cents INTEGER NOT NULL CHECK (change_cents >= 0),
    source       TEXT    NOT NULL CHECK (source IN ('pos', 'import', 'demo'))
);
CREATE INDEX sales_created_at ON sales (created_at);
CREATE INDEX sales_business_date ON sales (business_date);

CREATE TABLE sale_items (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_id          INTEGER NOT NULL REFERENCES sales (id),
    product_id       INTEGER NOT NULL REFERENCES products (id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    line_total_cents INTEGER NOT NULL CHECK (line_total_cents >= 0),
    is_promo         INTEGER NOT NULL DEFAULT 0 CHECK (is_promo IN (0, 1)),
    business_date    TEXT    NOT NULL
);
CREATE INDEX sale_items_sale ON sale_items (sale_id);
CREATE INDEX sale_items_product_day ON sale_items (product_id, business_date);
CREATE INDEX sale_items_day ON sale_items (business_date);

CREATE TABLE stock_ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id    INTEGER NOT NULL REFERENCES products (id),
    change        INTEGER NOT NULL CHECK (change <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    reason        TEXT    NOT NULL CHECK (reason IN ('sale', 'restock', 'adjustment', 'import')),
    sale_id       INTEGER REFERENCES sales (id),
    user_id       INTEGER REFERENCES users (id),
    note          TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX stock_ledger_product ON stock_ledger (product_id, id);

CREATE TABLE events (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT    NOT NULL,
    date                  TEXT    NOT NULL,
    end_date              TEXT,
    type                  TEXT    NOT NULL CHECK (type IN ('holiday', 'promotion', 'seasonal', 'custom')),
    description           TEXT,
    include_in_prediction INTEGER NOT NULL DEFAULT 1 CHECK (include_in_prediction IN (0, 1)),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX events_date ON events (date);

CREATE TABLE store_settings (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    store_name          TEXT    NOT NULL,
    address             TEXT    NOT NULL,
    phone               TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    timezone            TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    low_stock_threshold INTEGER NOT NULL CHECK (low_stock_threshold >= 0),
    updated_at          INTEGER NOT NULL
);

CREATE TABLE app_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    response_body TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
