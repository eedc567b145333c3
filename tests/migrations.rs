//! The SQLite and PostgreSQL migrations must describe the same schema: the same tables,
//! columns (nullability and a normalised type family), primary keys, foreign keys and
//! indexes (name, uniqueness, columns, partial predicate). Both are migrated fresh with the
//! project's own code (`Db::migrate`), read back from each catalogue, and compared as sorted
//! lines of facts, so a failure prints exactly what one dialect has and the other lacks.
//!
//! Only our migrations are compared: apalis creates its job-queue tables itself, under its
//! own migration history, from `QueueStore` (src/storage/jobs.rs), not from `Db::migrate`.
//!
//! PostgreSQL comes from `SIPREMS_TEST_PG_URL` (default the local server, user postgres); a
//! uniquely named database is created and dropped. An unreachable server fails the test,
//! except outside CI with `SIPREMS_SKIP_POSTGRES=1` (as `./scripts/test` allows).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use siprems::storage::Db;
use sqlx::{Connection, PgConnection, SqliteConnection};

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// One fact about a schema, e.g. `sales.cashier_id: integer NULL`.
type Schema = BTreeSet<String>;

/// Table, index, unique, primary, owned by a constraint, columns, partial predicate.
type PgIndexRow = (String, String, bool, bool, bool, String, Option<String>);

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let sqlite = sqlite_schema(&sqlite_url).await;

    let server = std::env::var("SIPREMS_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
    let mut admin = match PgConnection::connect(&server).await {
        Ok(admin) => admin,
        Err(error)
            if std::env::var("SIPREMS_SKIP_POSTGRES").as_deref() == Ok("1")
                && std::env::var("CI").as_deref() != Ok("true") =>
        {
            eprintln!("SIPREMS_SKIP_POSTGRES=1: not comparing with PostgreSQL ({error})");
            return;
        }
        Err(error) => panic!(
            "PostgreSQL at {server} (SIPREMS_TEST_PG_URL) is unreachable: {error}. \
             The migration comparison needs it; outside CI, SIPREMS_SKIP_POSTGRES=1 skips it"
        ),
    };
    // The siprems_test_ prefix lets ./scripts/test sweep it up if this run dies midway.
    let name = format!("siprems_test_schema_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create the PostgreSQL test database");
    let (base, _) = server.rsplit_once('/').expect("database url has a path");
    let postgres = postgres_schema(&format!("{base}/{name}")).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop the PostgreSQL test database");

    // Guard against comparing two empty catalogues.
    for schema in [&sqlite, &postgres] {
        assert!(
            schema.contains("table users"),
            "no users table: {schema:#?}"
        );
        assert!(schema.iter().any(|fact| fact.starts_with("sales.index ")));
    }

    eprintln!(
        "{} facts from SQLite, {} from PostgreSQL",
        sqlite.len(),
        postgres.len()
    );
    let only_sqlite: Vec<&String> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<&String> = postgres.difference(&sqlite).collect();
    if !only_sqlite.is_empty() || !only_postgres.is_empty() {
        let mut report = String::from("the SQLite and PostgreSQL migrations disagree\n");
        for (side, facts) in [("SQLite", &only_sqlite), ("PostgreSQL", &only_postgres)] {
            let _ = writeln!(report, "\nonly in {side} ({}):", facts.len());
            for fact in facts {
                let _ = writeln!(report, "  {fact}");
            }
        }
        panic!("{report}");
    }
}

async fn migrate(url: &str) {
    let db = Db::connect(url, 1).await.expect("connect");
    db.migrate().await.expect("migrate");
}

fn is_ours(table: &str) -> bool {
    !table.starts_with("sqlite_") && !table.starts_with("_sqlx") && table != "_apalis_migrations"
}

/// INTEGER/BIGINT/... are one family: SQLite stores any integer in up to 8 bytes, and the
/// PostgreSQL side declares BIGINT so both read back as i64.
fn type_family(declared: &str) -> String {
    let t = declared.trim().to_ascii_lowercase();
    let family = if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        "real"
    } else if t.contains("numeric") || t.contains("decimal") {
        "numeric"
    } else if t.contains("blob") || t == "bytea" {
        "blob"
    } else if t.starts_with("bool") {
        "boolean"
    } else {
        return format!("other({t})");
    };
    family.to_owned()
}

/// `(status = 'active'::text)` and `status = 'active'` compare equal.
fn predicate(sql: &str) -> String {
    sql.replace("::text", "")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')')
        .collect::<String>()
        .to_ascii_lowercase()
}

fn nullability(nullable: bool) -> &'static str {
    if nullable { "NULL" } else { "NOT NULL" }
}

fn index_fact(
    table: &str,
    name: &str,
    unique: bool,
    from_constraint: bool,
    columns: &str,
    predicate_sql: Option<&str>,
) -> String {
    let kind = if unique { "unique index" } else { "index" };
    // Constraint indexes are named by each database (sqlite_autoindex_users_1, users_email_key).
    let name = if from_constraint {
        "(from a UNIQUE constraint)"
    } else {
        name
    };
    let mut fact = format!("{table}.{kind} {name} ({columns})");
    if let Some(sql) = predicate_sql.filter(|sql| !sql.trim().is_empty()) {
        let _ = write!(fact, " WHERE {}", predicate(sql));
    }
    fact
}

async fn sqlite_schema(url: &str) -> Schema {
    migrate(url).await;
    let mut conn = SqliteConnection::connect(url).await.expect("open SQLite");
    let mut schema = Schema::new();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .expect("sqlite_master");
    for (table,) in tables.iter().filter(|(table,)| is_ours(table)) {
        schema.insert(format!("table {table}"));
        let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .expect("pragma_table_info");
        let pk_count = columns.iter().filter(|c| c.3 > 0).count();
        let mut primary_key: Vec<(i64, &str)> = Vec::new();
        for (column, declared, notnull, pk) in &columns {
            // A lone INTEGER PRIMARY KEY is the rowid and can never be NULL; any other
            // PRIMARY KEY column in SQLite accepts NULL unless declared NOT NULL.
            let rowid = *pk > 0 && pk_count == 1 && declared.eq_ignore_ascii_case("integer");
            let nullable = *notnull == 0 && !rowid;
            schema.insert(format!(
                "{table}.{column}: {} {}",
                type_family(declared),
                nullability(nullable)
            ));
            if *pk > 0 {
                primary_key.push((*pk, column));
            }
        }
        primary_key.sort();
        if !primary_key.is_empty() {
            let columns: Vec<&str> = primary_key.iter().map(|(_, c)| *c).collect();
            schema.insert(format!("{table}.primary key ({})", columns.join(", ")));
        }

        let indexes: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY name",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .expect("pragma_index_list");
        for (index, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue; // the primary key fact covers it
            }
            let columns: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut conn)
                    .await
                    .expect("pragma_index_info");
            let columns: Vec<String> = columns.into_iter().map(|(c,)| c).collect();
            let predicate_sql = if partial == 1 {
                let (sql,): (String,) = sqlx::query_as(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                )
                .bind(&index)
                .fetch_one(&mut conn)
                .await
                .expect("index sql");
                let upper = sql.to_ascii_uppercase();
                let at = upper.rfind(" WHERE ").expect("a partial index has a WHERE");
                Some(sql[at + " WHERE ".len()..].to_owned())
            } else {
                None
            };
            schema.insert(index_fact(
                table,
                &index,
                unique == 1,
                origin == "u",
                &columns.join(", "),
                predicate_sql.as_deref(),
            ));
        }

        let foreign_keys: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .expect("pragma_foreign_key_list");
        for (from, target, to) in foreign_keys {
            // `REFERENCES t` without a column means t's primary key.
            let to = to.unwrap_or_else(|| "(primary key)".into());
            schema.insert(format!("{table}.foreign key ({from}) -> {target} ({to})"));
        }
    }
    conn.close().await.expect("close SQLite");
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    migrate(url).await;
    let mut conn = PgConnection::connect(url).await.expect("open PostgreSQL");
    let mut schema = Schema::new();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("information_schema.tables");
    let ours: BTreeSet<String> = tables
        .into_iter()
        .map(|(t,)| t)
        .filter(|t| is_ours(t))
        .collect();
    for table in &ours {
        schema.insert(format!("table {table}"));
    }

    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("information_schema.columns");
    for (table, column, data_type, is_nullable) in columns {
        if ours.contains(&table) {
            schema.insert(format!(
                "{table}.{column}: {} {}",
                type_family(&data_type),
                nullability(is_nullable == "YES")
            ));
        }
    }

    // Columns of each index in key order, whether a constraint owns it, its predicate.
    let indexes: Vec<PgIndexRow> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indisprimary,
                    EXISTS (SELECT 1 FROM pg_constraint c
                            WHERE c.conindid = ix.indexrelid AND c.contype IN ('u', 'p')),
                    array_to_string(ARRAY(
                        SELECT a.attname::text
                        FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                        ORDER BY k.ord), ', '),
                    pg_get_expr(ix.indpred, ix.indrelid)
             FROM pg_index ix
             JOIN pg_class i ON i.oid = ix.indexrelid
             JOIN pg_class t ON t.oid = ix.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("pg_index");
    for (table, index, unique, primary, from_constraint, columns, predicate_sql) in indexes {
        if !ours.contains(&table) {
            continue;
        }
        if primary {
            schema.insert(format!("{table}.primary key ({columns})"));
        } else {
            schema.insert(index_fact(
                &table,
                &index,
                unique,
                from_constraint,
                &columns,
                predicate_sql.as_deref(),
            ));
        }
    }

    let foreign_keys: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, a.attname::text, rcl.relname::text, ra.attname::text
         FROM pg_constraint c
         JOIN pg_class cl ON cl.oid = c.conrelid
         JOIN pg_namespace n ON n.oid = cl.relnamespace
         JOIN pg_class rcl ON rcl.oid = c.confrelid
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, rcol)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.rcol
         WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("pg_constraint foreign keys");
    for (table, from, target, to) in foreign_keys {
        if ours.contains(&table) {
            schema.insert(format!("{table}.foreign key ({from}) -> {target} ({to})"));
        }
    }
    conn.close().await.expect("close PostgreSQL");
    schema
}
