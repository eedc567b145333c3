//! `siprems backtest` and `siprems train` as an operator runs them.

use std::process::Command;

fn siprems() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_siprems"));
    command
        .env("SIPREMS_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn");
    command
}

/// 120 days of two SKUs with a weekly pattern, ending 2026-06-30.
fn history_csv() -> String {
    let end = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let mut csv = String::from("date,sku,quantity,is_promo\n");
    for back in (0..120).rev() {
        let day = end - chrono::Duration::days(back);
        let weekend = chrono::Datelike::weekday(&day).num_days_from_monday() >= 5;
        csv.push_str(&format!(
            "{day},BRD-001,{},0\n",
            if weekend { 30 } else { 18 } + back % 3
        ));
        csv.push_str(&format!(
            "{day},CRS-001,{},{}\n",
            5 + back % 4,
            u8::from(back % 10 == 0)
        ));
    }
    csv
}

#[test]
fn backtest_writes_the_wire_format_for_every_sku_cutoff_and_day() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.csv");
    let events = dir.path().join("events.csv");
    let out = dir.path().join("forecasts.csv");
    std::fs::write(&history, history_csv()).unwrap();
    std::fs::write(&events, "date,name,type\n2026-06-15,Festival,holiday\n").unwrap();
    for model in ["naive", "ets", "auto"] {
        let status = siprems()
            .args(["backtest", "--history"])
            .arg(&history)
            .arg("--events")
            .arg(&events)
            .args([
                "--cutoffs",
                "2026-06-09,2026-06-16",
                "--horizon",
                "7",
                "--model",
                model,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{model}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let report = String::from_utf8_lossy(&status.stdout);
        assert!(
            report.contains("BRD-001"),
            "per-SKU metrics are printed: {report}"
        );
        let written = std::fs::read_to_string(&out).unwrap();
        let mut lines = written.lines();
        assert_eq!(
            lines.next(),
            Some("model,sku,cutoff,date,forecast,lower,upper")
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 2 * 2 * 7, "{model}: SKUs x cutoffs x days");
        for row in &rows {
            let (forecast, lower, upper): (f64, f64, f64) = (
                row[4].parse().unwrap(),
                row[5].parse().unwrap(),
                row[6].parse().unwrap(),
            );
            assert!(
                forecast >= 0.0 && lower <= forecast && forecast <= upper,
                "{row:?}"
            );
            if model != "auto" {
                assert_eq!(row[0], model);
            }
        }
        assert!(
            rows.iter()
                .any(|r| r[2] == "2026-06-16" && r[3] == "2026-06-17")
        );
    }
}

#[test]
fn backtest_refuses_bad_arguments_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.csv");
    std::fs::write(&history, history_csv()).unwrap();
    let out = dir.path().join("f.csv");
    let run = |args: &[&str]| {
        siprems()
            .args(["backtest", "--history"])
            .arg(&history)
            .arg("--out")
            .arg(&out)
            .args(args)
            .output()
            .unwrap()
    };
    let bad_model = run(&[
        "--cutoffs",
        "2026-06-09",
        "--horizon",
        "7",
        "--model",
        "crystal-ball",
    ]);
    assert!(!bad_model.status.success());
    let bad_cutoff = run(&["--cutoffs", "2026-13-09", "--horizon", "7"]);
    assert!(!bad_cutoff.status.success());
    assert!(String::from_utf8_lossy(&bad_cutoff.stderr).contains("2026-13-09"));
}

#[test]
fn train_all_activates_models_for_products_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("shop.db").display());
    let history = dir.path().join("history.csv");
    let today = chrono::Utc::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in 1..=90 {
        let day = today - chrono::Duration::days(back);
        csv.push_str(&format!("{day},BRD-001,{}\n", 10 + back % 7));
    }
    csv.push_str(&format!("{},TINY-1,1\n", today - chrono::Duration::days(1)));
    std::fs::write(&history, csv).unwrap();
    let env = |command: &mut Command| {
        command
            .env("DATABASE_URL", &database)
            .env("SIPREMS_DEMO", "0")
            .env("SIPREMS_FORECAST_MODEL", "naive");
    };
    let mut import = siprems();
    env(&mut import);
    let import = import
        .arg("import")
        .arg(&history)
        .arg("--create-products")
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );

    let mut train = siprems();
    env(&mut train);
    let train = train.args(["train", "--all"]).output().unwrap();
    assert!(
        train.status.success(),
        "{}",
        String::from_utf8_lossy(&train.stderr)
    );
    let report = String::from_utf8_lossy(&train.stdout);
    let line = |sku: &str| {
        report
            .lines()
            .find(|l| l.starts_with(sku))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("BRD-001").contains("activated"), "{report}");
    assert!(line("TINY-1").contains("skipped"), "{report}");

    let mut unknown = siprems();
    env(&mut unknown);
    let unknown = unknown.args(["train", "--sku", "NOPE-9"]).output().unwrap();
    assert!(!unknown.status.success());
}
