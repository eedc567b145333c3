//! The `import` and `seed --demo` commands, run as the real binary against a fresh SQLite
//! file, checked by reading the database afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use siprems::storage::{Db, ledger, products};

struct Shop {
    dir: tempfile::TempDir,
    url: String,
}

impl Shop {
    fn new() -> Shop {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("shop.db").display());
        let shop = Shop { dir, url };
        let out = shop.run(&["migrate"]);
        assert!(out.status.success(), "migrate failed: {}", stderr(&out));
        shop
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_siprems"))
            .args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", &self.url)
            .env("SIPREMS_DEMO", "0")
            .env("SIPREMS_ADMIN_PASSWORD", "a-long-test-password")
            .env("SIPREMS_TIMEZONE", "Asia/Jakarta")
            .env_remove("RUST_LOG")
            .output()
            .expect("running siprems")
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("writing the CSV file");
        path
    }

    fn import(&self, file: &Path, create_products: bool) -> Output {
        let file = file.to_str().expect("utf-8 path");
        if create_products {
            self.run(&["import", file, "--create-products"])
        } else {
            self.run(&["import", file])
        }
    }

    /// Runs `check` against the shop's database.
    fn with_db<T>(&self, check: impl AsyncFnOnce(&Db) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let db = Db::connect(&self.url, 2).await.expect("connecting");
            let result = check(&db).await;
            db.close().await;
            result
        })
    }

    fn add_product(&self, sku: &str, price_cents: i64) {
        self.with_db(async |db| {
            let mut tx = db.begin_write().await.unwrap();
            let new = products::NewProduct {
                sku,
                barcode: None,
                name: sku,
                category_id: None,
                variation: None,
                price_cents,
                cost_price_cents: price_cents / 2,
            };
            products::insert(&mut tx, &new).await.unwrap();
            tx.commit().await.unwrap();
        });
    }

    fn scalar(&self, sql: &'static str) -> i64 {
        self.with_db(async |db| {
            let (value,): (i64,) = sqlx::query_as(sql).fetch_one(db.pool()).await.unwrap();
            value
        })
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// business_date, created_at, total, paid, change, cashier_id, source
type SaleRow = (String, i64, i64, i64, i64, Option<i64>, String);

#[test]
fn a_good_file_lands_as_one_sale_per_day_without_touching_stock() {
    let shop = Shop::new();
    shop.add_product("BRD-001", 1_800_000);
    shop.add_product("CRS-001", 1_500_000);
    let file = shop.file(
        "history.csv",
        "Quantity,SKU,date,unit_price,is_promo,comment\n\
         3,BRD-001,2026-01-05,,0,first\n\
         2,CRS-001,2026-01-05T09:15:00+07:00,14000,yes,\n\
         1,BRD-001,2026-01-04T18:00:00Z,,,late evening UTC is the next local day\n\
         4,CRS-001,2026-01-06,,true,\n",
    );
    let out = shop.import(&file, false);
    assert!(out.status.success(), "import failed: {}", stderr(&out));
    let summary = stdout(&out);
    assert!(summary.contains("imported 4 rows"), "{summary}");
    assert!(summary.contains("2 daily sales"), "{summary}");
    assert!(summary.contains("ignored columns: comment"), "{summary}");

    let (sales, items, stock, ledger_rows, mismatches) = shop.with_db(async |db| {
        let sales: Vec<SaleRow> = sqlx::query_as(
            "SELECT business_date, created_at, total_cents, paid_cents, change_cents, cashier_id, source \
             FROM sales ORDER BY id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let items: Vec<(String, i64, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT p.sku, i.quantity, i.unit_price_cents, i.line_total_cents, i.is_promo, i.business_date \
             FROM sale_items i JOIN products p ON p.id = i.product_id ORDER BY i.id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let (stock,): (i64,) = sqlx::query_as("SELECT CAST(SUM(stock) AS BIGINT) FROM products")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let (ledger_rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM stock_ledger")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let mismatches = ledger::mismatches(db.pool()).await.unwrap();
        (sales, items, stock, ledger_rows, mismatches)
    });

    // 2026-01-05 local: three rows; the earliest instant (2026-01-04T18:00Z = 01:00 WIB)
    // is the sale's time. 2026-01-06: a date-only row, so local midday (05:00 UTC).
    assert_eq!(sales.len(), 2, "{sales:?}");
    let jan5 = &sales[0];
    assert_eq!(jan5.0, "2026-01-05");
    assert_eq!(jan5.1, 1_767_549_600_000, "2026-01-04T18:00:00Z");
    assert_eq!(jan5.2, 3 * 1_800_000 + 2 * 1_400_000 + 1_800_000);
    assert_eq!(
        (jan5.3, jan5.4, jan5.5, jan5.6.as_str()),
        (jan5.2, 0, None, "import")
    );
    let jan6 = &sales[1];
    assert_eq!(jan6.0, "2026-01-06");
    assert_eq!(jan6.1, 1_767_675_600_000, "2026-01-06T05:00:00Z");
    assert_eq!(jan6.2, 4 * 1_500_000);

    assert_eq!(items.len(), 4);
    assert!(items.contains(&(
        "CRS-001".into(),
        2,
        1_400_000,
        2_800_000,
        1,
        "2026-01-05".into()
    )));
    assert!(items.contains(&(
        "BRD-001".into(),
        1,
        1_800_000,
        1_800_000,
        0,
        "2026-01-05".into()
    )));
    assert!(items.contains(&(
        "CRS-001".into(),
        4,
        1_500_000,
        6_000_000,
        1,
        "2026-01-06".into()
    )));

    // History describes the past: current stock and the ledger are untouched.
    assert_eq!((stock, ledger_rows), (0, 0));
    assert!(mismatches.is_empty());
}

#[test]
fn a_file_with_bad_rows_and_unknown_skus_is_refused_whole_with_line_numbers() {
    let shop = Shop::new();
    shop.add_product("BRD-001", 1_800_000);
    let file = shop.file(
        "bad.csv",
        "date,sku,quantity,unit_price\n\
         2026-01-05,BRD-001,2,\n\
         2026-01-05,BRD-001,zero,\n\
         2026-01-06,NOPE-1,1,\n\
         2026-02-30,BRD-001,1,\n\
         2026-01-07,NOPE-1,1,\n\
         2026-01-07,BRD-001,1,-3\n\
         2026-01-08,NOPE-2,5,\n",
    );
    let out = shop.import(&file, false);
    assert!(
        !out.status.success(),
        "a bad file must fail: {}",
        stdout(&out)
    );
    let error = stderr(&out);
    assert!(error.contains("6 rows have errors"), "{error}");
    assert!(error.contains("nothing was imported"), "{error}");
    assert!(
        error.contains("line 3: quantity must be a whole number"),
        "{error}"
    );
    assert!(error.contains("line 5: date"), "{error}");
    assert!(
        error.contains("line 7: unit_price must not be negative"),
        "{error}"
    );
    assert!(error.contains("2 unknown SKUs"), "{error}");
    assert!(error.contains("NOPE-1 (lines 4, 6)"), "{error}");
    assert!(error.contains("NOPE-2 (line 8)"), "{error}");
    assert!(error.contains("--create-products"), "{error}");

    assert_eq!(shop.scalar("SELECT COUNT(*) FROM sales"), 0);
    assert_eq!(shop.scalar("SELECT COUNT(*) FROM sale_items"), 0);
    assert_eq!(shop.scalar("SELECT COUNT(*) FROM products"), 1);

    // Missing columns and empty files are clear errors too.
    let out = shop.import(
        &shop.file("no-quantity.csv", "date,sku\n2026-01-05,BRD-001\n"),
        false,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("missing: quantity"),
        "{}",
        stderr(&out)
    );
    let out = shop.import(&shop.file("empty.csv", ""), false);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    let out = shop.run(&["import", "does-not-exist.csv"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    assert_eq!(shop.scalar("SELECT COUNT(*) FROM sales"), 0);
}

#[test]
fn create_products_makes_the_unknown_skus_and_imports() {
    let shop = Shop::new();
    shop.add_product("BRD-001", 1_800_000);
    let file = shop.file(
        "new-products.csv",
        "date,sku,quantity,unit_price\n\
         2026-01-05,NEW-1,2,\n\
         2026-01-05,NEW-1,1,12500.50\n\
         2026-01-06,NEW-2,3,\n\
         2026-01-06,BRD-001,1,\n",
    );
    let out = shop.import(&file, true);
    assert!(out.status.success(), "import failed: {}", stderr(&out));
    assert!(
        stdout(&out).contains("created 2 products"),
        "{}",
        stdout(&out)
    );

    let created: Vec<(String, String, i64, i64, i64, Option<i64>)> = shop.with_db(async |db| {
        sqlx::query_as(
            "SELECT sku, name, price_cents, cost_price_cents, stock, category_id FROM products \
             WHERE sku LIKE 'NEW-%' ORDER BY sku",
        )
        .fetch_all(db.pool())
        .await
        .unwrap()
    });
    assert_eq!(
        created,
        vec![
            ("NEW-1".into(), "NEW-1".into(), 1_250_050, 0, 0, None),
            ("NEW-2".into(), "NEW-2".into(), 0, 0, 0, None),
        ]
    );
    // The row without a price takes the new product's price (its first unit_price).
    assert_eq!(
        shop.scalar("SELECT CAST(SUM(line_total_cents) AS BIGINT) FROM sale_items"),
        2 * 1_250_050 + 1_250_050 + 1_800_000
    );
    assert_eq!(
        shop.scalar("SELECT COUNT(*) FROM sales WHERE source = 'import'"),
        2
    );
}

type Catalogue = Vec<(String, String, Option<String>, i64, i64, i64)>;

fn catalogue_and_revenue(shop: &Shop) -> (Catalogue, i64, i64, i64) {
    shop.with_db(async |db| {
        let products: Catalogue = sqlx::query_as(
            "SELECT p.sku, p.name, c.name, p.price_cents, p.cost_price_cents, p.stock \
             FROM products p LEFT JOIN categories c ON c.id = p.category_id ORDER BY p.sku",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let (revenue, sales): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(total_cents), 0) AS BIGINT), COUNT(*) FROM sales",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(ledger::mismatches(db.pool()).await.unwrap().is_empty());
        (products, revenue, sales, events)
    })
}

#[test]
fn the_demo_seed_is_deterministic_and_refuses_to_run_twice() {
    let first = Shop::new();
    let second = Shop::new();
    for shop in [&first, &second] {
        let out = shop.run(&["seed", "--demo", "--days", "60", "--seed", "7"]);
        assert!(out.status.success(), "seed failed: {}", stderr(&out));
        assert!(
            stdout(&out).contains("demo shop loaded"),
            "{}",
            stdout(&out)
        );
    }
    let (products_a, revenue_a, sales_a, events_a) = catalogue_and_revenue(&first);
    let (products_b, revenue_b, sales_b, events_b) = catalogue_and_revenue(&second);
    assert!(
        (30..=36).contains(&products_a.len()),
        "{}",
        products_a.len()
    );
    assert_eq!(products_a, products_b);
    assert_eq!(
        (revenue_a, sales_a, events_a),
        (revenue_b, sales_b, events_b)
    );
    assert!(sales_a > 60 * 50, "{sales_a} sales in 60 days");
    assert!(events_a > 0);
    assert_eq!(
        first.scalar("SELECT COUNT(DISTINCT business_date) FROM sales"),
        60
    );
    assert_eq!(
        first.scalar("SELECT COUNT(*) FROM sales WHERE source <> 'demo'"),
        0
    );
    // A few products start low, two sold out (threshold 10), all through the ledger.
    let low = products_a.iter().filter(|p| p.5 <= 10).count();
    let empty = products_a.iter().filter(|p| p.5 == 0).count();
    assert_eq!((low, empty), (6, 2));
    assert_eq!(
        first.scalar("SELECT COUNT(*) FROM stock_ledger WHERE reason = 'import'"),
        products_a.len() as i64 - 2
    );

    // Another seed gives another history.
    let third = Shop::new();
    let out = third.run(&["seed", "--demo", "--days", "60", "--seed", "8"]);
    assert!(out.status.success(), "seed failed: {}", stderr(&out));
    let (_, revenue_c, _, _) = catalogue_and_revenue(&third);
    assert_ne!(revenue_a, revenue_c);

    // Never twice: the second run fails and changes nothing.
    let out = first.run(&["seed", "--demo", "--days", "60", "--seed", "7"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already has products or sales"),
        "{}",
        stderr(&out)
    );
    let (products_again, revenue_again, sales_again, _) = catalogue_and_revenue(&first);
    assert_eq!(
        (products_again, revenue_again, sales_again),
        (products_a, revenue_a, sales_a)
    );
}

#[test]
fn barcodes_in_the_file_label_new_and_unlabelled_products_and_conflicts_refuse_it() {
    let shop = Shop::new();
    shop.add_product("BRD-001", 1_800_000);
    let file = shop.file(
        "labelled.csv",
        "date,sku,quantity,barcode\n\
         2026-01-05,BRD-001,3,8992761111120\n\
         2026-01-05,NEW-1,1,036000291452\n\
         2026-01-06,NEW-1,2,\n",
    );
    let out = shop.import(&file, true);
    assert!(out.status.success(), "import failed: {}", stderr(&out));
    let labels = shop.with_db(async |db| {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT sku, barcode FROM products ORDER BY sku")
                .fetch_all(db.pool())
                .await
                .unwrap();
        rows
    });
    assert_eq!(
        labels,
        vec![
            ("BRD-001".to_owned(), Some("8992761111120".to_owned())),
            ("NEW-1".to_owned(), Some("0036000291452".to_owned())),
        ]
    );

    // Bad check digit, one SKU with two codes, one code on two SKUs: every line reported,
    // nothing written.
    let sales_before = shop.scalar("SELECT COUNT(*) FROM sales");
    let file = shop.file(
        "bad.csv",
        "date,sku,quantity,barcode\n\
         2026-01-07,BRD-001,1,8992761111121\n\
         2026-01-07,BRD-001,1,8992761111120\n\
         2026-01-07,BRD-001,1,0036000291452\n\
         2026-01-07,NEW-1,1,8992761111120\n",
    );
    let out = shop.import(&file, false);
    assert!(!out.status.success());
    let message = stderr(&out);
    for expected in [
        "line 2: barcode must be an EAN-13",
        "line 4: BRD-001 has barcode 8992761111120 on line 3",
        "line 5: barcode 8992761111120 is given to BRD-001 on line 3",
    ] {
        assert!(message.contains(expected), "{expected} not in: {message}");
    }
    assert_eq!(shop.scalar("SELECT COUNT(*) FROM sales"), sales_before);

    // A product labelled differently in the database refuses the file.
    let file = shop.file(
        "relabel.csv",
        "date,sku,quantity,barcode\n2026-01-08,NEW-1,1,8992761111137\n",
    );
    let out = shop.import(&file, false);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("NEW-1 has barcode 0036000291452, the file says"),
        "{}",
        stderr(&out)
    );
    assert_eq!(shop.scalar("SELECT COUNT(*) FROM sales"), sales_before);
}
