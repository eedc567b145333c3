//! `siprems backtest` on files (naive and ETS only, so no Prophet optimizer is compiled).

use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use forecast::files::{parse_cutoffs, read_events, read_history, run_backtest_files};
use forecast::{Engine, ForecastError, ModelChoice, ModelKind};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("siprems-forecast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Two SKUs, 150 days, columns in a non-default order, RFC 3339 dates on some rows, promo
/// flags, a day with two rows, and a gap (days without rows = zero demand).
fn write_history() -> PathBuf {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let mut s = String::from("sku,is_promo,quantity,date,unit_price\n");
    for i in 0..150u64 {
        let d = start + Days::new(i);
        if (100..103).contains(&i) {
            continue; // closed: zero demand
        }
        let q = 10 + (i % 7) * 2;
        if i % 2 == 0 {
            s += &format!("A-1,false,{q},{d},2.50\n");
        } else {
            s += &format!("A-1,true,{q},{d}T10:15:00+07:00,2.50\n");
        }
        s += &format!("B-2,0,{},{d},1.00\n", 3 + i % 3);
        if i % 5 == 0 {
            s += &format!("B-2,1,1,{d},1.00\n");
        }
    }
    let p = tmp("history.csv");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn writes_the_exact_columns_and_reports_metrics() {
    let history = write_history();
    let events = tmp("events.csv");
    std::fs::write(&events, "date,name,type\n2024-03-10,Fair,seasonal\n2024-03-11,Fair,seasonal\n2024-05-01,Labour Day,holiday\n").unwrap();
    let out = tmp("out.csv");
    let cutoffs = parse_cutoffs("2024-04-30,2024-05-14").unwrap();
    let engine = Engine::lazy();
    let report = run_backtest_files(
        &history,
        Some(&events),
        &cutoffs,
        14,
        ModelChoice::Only(ModelKind::SeasonalNaive),
        &out,
        &engine,
    )
    .expect("backtest");

    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "model,sku,cutoff,date,forecast,lower,upper"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 2 * 14);
    assert_eq!(report.rows, rows.len());
    assert!(rows.iter().all(|r| r.len() == 7 && r[0] == "naive"));
    assert_eq!(rows[0][1], "A-1");
    assert_eq!(rows[0][2], "2024-04-30");
    assert_eq!(rows[0][3], "2024-05-01");
    assert_eq!(rows[13][3], "2024-05-14");
    for r in &rows {
        let (f, lo, hi): (f64, f64, f64) = (
            r[4].parse().unwrap(),
            r[5].parse().unwrap(),
            r[6].parse().unwrap(),
        );
        assert!(lo >= 0.0 && lo <= f && f <= hi, "{r:?}");
    }
    // The naive forecast for 2024-05-01 (day 121, i = 121) repeats 2024-04-24 (i = 114):
    // 10 + (114 % 7) * 2 = 14.
    assert_eq!(rows[0][4], "14.000");

    // Metrics for both SKUs (the file covers every forecast day), fit time recorded.
    assert_eq!(report.skus.len(), 2);
    for s in &report.skus {
        let m = s.metrics.expect("metrics");
        assert!(m.smape.is_finite() && m.mase >= 0.0, "{m:?}");
        assert_eq!(s.cutoffs, 2);
        assert_eq!(s.scored_days, 28);
        assert_eq!(s.models.get(&ModelKind::SeasonalNaive), Some(&2));
    }
    // A-1 is perfectly weekly -> zero error.
    assert_eq!(report.skus[0].metrics.unwrap().mae, 0.0);
    let shown = report.to_string();
    assert!(shown.contains("A-1") && shown.contains("sMAPE"), "{shown}");
}

#[test]
fn reads_the_import_format() {
    let history = write_history();
    let file = read_history(&history).unwrap();
    assert_eq!(file.skus().collect::<Vec<_>>(), vec!["A-1", "B-2"]);
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let a = file.history("A-1", d("2024-05-31")).unwrap();
    assert_eq!(a.start, d("2024-01-01"));
    assert_eq!(a.units.len(), 152);
    assert_eq!(a.units[100], 0.0); // the gap is zero demand
    assert_eq!(a.promo[1], 1.0); // odd days are promo (RFC 3339 rows)
    assert_eq!(a.promo[2], 0.0);
    // B-2 on day 0: 3 units + 1 promo unit -> 4 units, 25% promo
    let b = file.history("B-2", d("2024-01-01")).unwrap();
    assert_eq!(b.units, vec![4.0]);
    assert_eq!(b.promo, vec![0.25]);
    assert!(file.history("A-1", d("2023-12-31")).is_none());
    assert_eq!(
        file.actual("A-1", d("2024-05-29")),
        Some(10.0 + (149 % 7) as f64 * 2.0)
    );
    assert_eq!(file.actual("A-1", d("2024-05-30")), None);

    let bad = tmp("bad.csv");
    std::fs::write(&bad, "date,sku,quantity\n2024-01-01,A,1\n2024-13-01,A,2\n").unwrap();
    match read_history(&bad) {
        Err(ForecastError::Input(msg)) => assert!(msg.contains("line 3"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let missing = tmp("missing.csv");
    std::fs::write(&missing, "date,quantity\n2024-01-01,1\n").unwrap();
    assert!(matches!(
        read_history(&missing),
        Err(ForecastError::Input(_))
    ));

    let events = tmp("events2.csv");
    std::fs::write(
        &events,
        "name,date\nX,2024-01-02\nX,2024-01-01\nY,2024-02-01T00:00:00Z\n",
    )
    .unwrap();
    let ev = read_events(&events).unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].name, "X");
    assert_eq!(ev[0].dates, vec![d("2024-01-01"), d("2024-01-02")]);
}

#[test]
fn ets_backtest_and_skipped_cutoffs() {
    let history = write_history();
    let out = tmp("out-ets.csv");
    // The first cutoff is before any sale: skipped, not an error.
    let cutoffs = parse_cutoffs("2023-12-01,2024-05-01").unwrap();
    let report = run_backtest_files(
        &history,
        None,
        &cutoffs,
        7,
        ModelChoice::Only(ModelKind::Ets),
        &out,
        &Engine::lazy(),
    )
    .expect("backtest");
    assert_eq!(report.rows, 2 * 7);
    assert_eq!(report.skipped.len(), 2);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().skip(1).all(|l| l.starts_with("ets,")));
}

#[test]
fn history_files_follow_the_shared_reader_rules() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Instants count for their UTC day (files carry no store timezone); blank lines and
    // extra columns are fine; `t` is a true is_promo (PostgreSQL's export).
    let ok = tmp("rules-ok.csv");
    std::fs::write(
        &ok,
        "\u{feff}date,sku,quantity,is_promo,note\n2024-01-01T23:30:00-02:00,A,2,t,x\n\n2024-01-01,A,1,f,\n",
    )
    .unwrap();
    let file = read_history(&ok).unwrap();
    let a = file.history("A", d("2024-01-02")).unwrap();
    assert_eq!(a.start, d("2024-01-01"));
    assert_eq!(a.units, vec![1.0, 2.0]);
    assert_eq!(a.promo, vec![0.0, 1.0]);

    // Every bad row is listed with its line (blank lines counted), not only the first.
    let bad = tmp("rules-bad.csv");
    std::fs::write(
        &bad,
        "date,sku,quantity\n2024-01-01,A,1\n\n2024-01-02,A,0\n2024-01-03,A,1.5\n2024-01-04,a b,1\n",
    )
    .unwrap();
    match read_history(&bad) {
        Err(ForecastError::Input(msg)) => {
            assert!(msg.contains("3 rows have errors"), "{msg}");
            assert!(msg.contains("line 4: quantity must be positive"), "{msg}");
            assert!(
                msg.contains("line 5: quantity must be a whole number"),
                "{msg}"
            );
            assert!(msg.contains("line 6: sku"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}
