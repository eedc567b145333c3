//! The built-in assistant: no model, no network. It recognises the common questions in
//! English and Bahasa Indonesia, answers them through the same tools an external model
//! would call, and writes the answer from the tools' figures in the user's language.

use serde_json::{Value, json};

use super::catalog::Catalog;
use super::matching::{self, Subject};
use super::periods::{self, Mention, Period, contains_phrase};
use super::tools::{Figures, ToolError, ToolName, ToolResult, Toolbox};
use super::{Action, Lang, Source, format_money, format_units};
use crate::domain::DomainResult;
use crate::domain::calendar::format_date;
use crate::domain::products::Audience;
use crate::domain::recommendations::Urgency;

/// Products answered for one by one when a name fits several; beyond it, we ask which.
const MAX_FOR_EACH: usize = 4;
/// Lines listed in an answer before "and N more".
const MAX_LINES: usize = 10;
/// Restock proposals made from one piece of advice.
const MAX_ACTIONS: usize = 5;

/// What the user asks for.
#[derive(Debug, Clone, PartialEq)]
enum Intent {
    Greeting,
    Help,
    RestockAction { quantity: i64 },
    RestockAdvice { days: i64 },
    LowStock,
    Forecast { days: i64 },
    TopSellers,
    Sales,
    Events { days: i64 },
    Stock,
    Unknown,
}

/// The built-in provider. Stateless: everything it knows comes from the tools.
#[derive(Debug, Default, Clone)]
pub struct BuiltIn;

/// An answer in the making: text, and the tools' figures behind it.
pub struct Answer {
    pub text: String,
    pub sources: Vec<Source>,
    pub actions: Vec<Action>,
    pub tool_calls: Vec<(ToolName, Value)>,
}

fn has_any(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| contains_phrase(text, p))
}

const INDONESIAN: &[&str] = &[
    "apa",
    "berapa",
    "stok",
    "restok",
    "stoknya",
    "yang",
    "bulan",
    "minggu",
    "pekan",
    "lalu",
    "kemarin",
    "hari",
    "ini",
    "prediksi",
    "penjualan",
    "terlaris",
    "untuk",
    "dan",
    "tambah",
    "perlu",
    "acara",
    "produk",
    "harga",
    "halo",
    "hai",
    "tolong",
    "bagaimana",
    "gimana",
    "kapan",
    "saja",
    "dong",
    "terjual",
    "menipis",
    "habis",
    "depan",
    "selamat",
    "terima",
    "kasih",
    "bisa",
    "saya",
    "ada",
    "tidak",
    "dari",
    "sampai",
    "tahun",
    "libur",
    "omzet",
    "omset",
    "pendapatan",
    "laku",
    "rekomendasi",
    "beli",
    "ramalan",
    "perkiraan",
    "kategori",
    "paling",
    "berikutnya",
    "mau",
    "bantuan",
    "di",
    "ke",
    "pagi",
    "siang",
    "sore",
    "malam",
    "hingga",
    "terakhir",
    "sebulan",
    "seminggu",
    "jual",
    "persediaan",
    "kegiatan",
    "mendatang",
];

const ENGLISH: &[&str] = &[
    "what",
    "how",
    "the",
    "is",
    "are",
    "sales",
    "sold",
    "stock",
    "last",
    "week",
    "month",
    "this",
    "today",
    "yesterday",
    "forecast",
    "top",
    "events",
    "event",
    "upcoming",
    "should",
    "many",
    "much",
    "did",
    "of",
    "for",
    "show",
    "me",
    "low",
    "sell",
    "best",
    "help",
    "hello",
    "hi",
    "days",
    "which",
    "predict",
    "revenue",
    "sellers",
    "running",
    "next",
    "year",
    "in",
    "do",
    "we",
    "have",
    "restock",
    "order",
    "price",
    "please",
    "can",
    "you",
    "morning",
];

/// The language of one message: Indonesian when more of its words are Indonesian.
pub fn detect_language(text: &str) -> Lang {
    let words = matching::words_of(text);
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(&w.as_str())).count();
    if count(INDONESIAN) > count(ENGLISH) {
        Lang::Id
    } else {
        Lang::En
    }
}

/// Words of a question that are never product names.
const QUESTION_WORDS: &[&str] = &[
    "restock",
    "re-stock",
    "di-restock",
    "direstock",
    "restok",
    "re-stok",
    "direstok",
    "reorder",
    "order",
    "stock",
    "stok",
    "stoknya",
    "low",
    "sales",
    "sold",
    "sell",
    "selling",
    "revenue",
    "forecast",
    "predict",
    "prediction",
    "prediksi",
    "ramalan",
    "perkiraan",
    "penjualan",
    "terjual",
    "omzet",
    "omset",
    "pendapatan",
    "laku",
    "terlaris",
    "top",
    "best",
    "seller",
    "sellers",
    "event",
    "events",
    "acara",
    "upcoming",
    "holiday",
    "holidays",
    "libur",
    "price",
    "harga",
    "category",
    "kategori",
    "product",
    "products",
    "produk",
    "units",
    "unit",
    "pcs",
    "buah",
    "days",
    "day",
    "hari",
    "week",
    "weeks",
    "minggu",
    "pekan",
    "month",
    "bulan",
    "year",
    "tahun",
    "last",
    "this",
    "next",
    "lalu",
    "ini",
    "depan",
    "kemarin",
    "yesterday",
    "today",
    "tambah",
    "tambahkan",
    "isi",
    "ulang",
    "berapa",
    "how",
    "many",
    "much",
    "what",
    "which",
    "the",
    "for",
    "of",
    "is",
    "are",
    "did",
    "do",
    "does",
    "we",
    "have",
    "has",
    "in",
    "on",
    "to",
    "and",
    "me",
    "show",
    "tell",
    "please",
    "tolong",
    "apa",
    "yang",
    "untuk",
    "dan",
    "dari",
    "sampai",
    "hingga",
    "perlu",
    "should",
    "need",
    "needs",
    "rekomendasi",
    "saja",
    "dong",
    "ada",
    "masih",
    "sisa",
    "left",
    "terakhir",
    "past",
    "previous",
    "until",
    "from",
    "about",
    "my",
    "our",
    "shop",
    "toko",
    "kita",
    "saya",
    "itu",
    "with",
    "many",
    "much",
    "running",
    "out",
    "menipis",
    "habis",
    "rendah",
    "give",
    "buy",
    "beli",
    "pesan",
    "inventory",
    "persediaan",
    "at",
    "a",
    "an",
    "by",
    "sku",
    "total",
    "jumlah",
    "berapakah",
    "bagaimana",
    "gimana",
    "seminggu",
    "sebulan",
    "kedepan",
    "ke",
    "di",
    "will",
    "akan",
];

fn content_words(text: &str) -> Vec<String> {
    let month_or_number = |w: &str| {
        w.chars().all(|c| c.is_ascii_digit() || c == '-')
            || matches!(
                w,
                "januari"
                    | "january"
                    | "februari"
                    | "february"
                    | "maret"
                    | "march"
                    | "april"
                    | "mei"
                    | "may"
                    | "juni"
                    | "june"
                    | "juli"
                    | "july"
                    | "agustus"
                    | "august"
                    | "september"
                    | "oktober"
                    | "october"
                    | "november"
                    | "desember"
                    | "december"
                    | "nov"
                    | "des"
                    | "dec"
                    | "okt"
                    | "oct"
            )
    };
    matching::words_of(text)
        .into_iter()
        .filter(|w| !QUESTION_WORDS.contains(&w.as_str()) && !month_or_number(w))
        .collect()
}

/// The first whole number in the text that is not part of a date or an SKU.
fn first_number(text: &str) -> Option<i64> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '?' || c == '!')
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()))
        .find_map(|w| w.parse::<i64>().ok())
}

/// "7 hari", "14 days", "seminggu", "next month": a number of days, if the text gives one.
fn days_in(text: &str) -> Option<i64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for pair in words.windows(2) {
        if let Ok(n) = pair[0].parse::<i64>()
            && matches!(
                pair[1].trim_end_matches(['?', '.', ',']),
                "days" | "day" | "hari"
            )
        {
            return Some(n);
        }
    }
    if has_any(text, &["two weeks", "2 weeks", "dua minggu", "2 minggu"]) {
        Some(14)
    } else if has_any(
        text,
        &["next month", "bulan depan", "sebulan", "a month", "30 days"],
    ) {
        Some(30)
    } else if has_any(
        text,
        &[
            "this week",
            "next week",
            "minggu ini",
            "minggu depan",
            "seminggu",
            "a week",
            "pekan ini",
            "pekan depan",
        ],
    ) {
        Some(7)
    } else {
        None
    }
}

fn intent_of(text: &str, audience_words: &[String]) -> Intent {
    let restock_words = [
        "restock",
        "re-stock",
        "restok",
        "re-stok",
        "reorder",
        "tambah stok",
        "tambahkan stok",
        "isi ulang",
        "isi stok",
        "order",
    ];
    let number = first_number(text);
    if has_any(text, &restock_words)
        && let Some(quantity) = number
        && !audience_words.is_empty()
        && days_in(text).is_none()
    {
        return Intent::RestockAction { quantity };
    }
    if has_any(text, &restock_words)
        || has_any(
            text,
            &[
                "what should i buy",
                "perlu dibeli",
                "harus dibeli",
                "perlu restock",
                "rekomendasi stok",
                "restock advice",
            ],
        )
    {
        return Intent::RestockAdvice {
            days: days_in(text).unwrap_or(7),
        };
    }
    if has_any(
        text,
        &[
            "low stock",
            "running low",
            "stok menipis",
            "stok rendah",
            "hampir habis",
            "stok sedikit",
            "out of stock",
            "stok habis",
            "menipis",
            "low on stock",
        ],
    ) {
        return Intent::LowStock;
    }
    if has_any(
        text,
        &[
            "forecast",
            "predict",
            "prediction",
            "prediksi",
            "ramalan",
            "perkiraan",
            "proyeksi",
            "will sell",
            "akan terjual",
            "demand",
        ],
    ) {
        return Intent::Forecast {
            days: days_in(text).unwrap_or(7),
        };
    }
    if has_any(
        text,
        &[
            "top",
            "best seller",
            "best sellers",
            "best-selling",
            "best selling",
            "bestseller",
            "bestsellers",
            "terlaris",
            "paling laku",
            "paling banyak terjual",
            "sold the most",
            "sells the most",
            "top sellers",
        ],
    ) {
        return Intent::TopSellers;
    }
    if has_any(
        text,
        &[
            "sales",
            "sold",
            "sell",
            "revenue",
            "how did",
            "penjualan",
            "terjual",
            "omzet",
            "omset",
            "pendapatan",
            "laku",
            "jual",
            "income",
            "turnover",
        ],
    ) {
        return Intent::Sales;
    }
    if has_any(
        text,
        &[
            "event",
            "events",
            "holiday",
            "holidays",
            "upcoming",
            "acara",
            "libur",
            "hari raya",
            "kegiatan",
            "agenda",
            "promotion",
            "promotions",
            "promosi",
        ],
    ) {
        return Intent::Events {
            days: days_in(text).unwrap_or(30),
        };
    }
    if has_any(
        text,
        &[
            "stock",
            "stok",
            "stoknya",
            "how many",
            "berapa",
            "persediaan",
            "inventory",
            "price",
            "harga",
            "sisa",
            "left",
        ],
    ) || !audience_words.is_empty()
    {
        return Intent::Stock;
    }
    if has_any(
        text,
        &[
            "help",
            "bantuan",
            "what can you do",
            "bisa apa",
            "apa yang bisa",
            "how do i",
            "cara",
        ],
    ) {
        return Intent::Help;
    }
    if has_any(
        text,
        &[
            "hi",
            "hello",
            "hey",
            "halo",
            "hai",
            "selamat pagi",
            "selamat siang",
            "selamat sore",
            "selamat malam",
            "good morning",
            "good afternoon",
            "good evening",
            "thanks",
            "thank you",
            "terima kasih",
            "makasih",
        ],
    ) {
        return Intent::Greeting;
    }
    Intent::Unknown
}

/// Runs one tool, noting its figures as a source and telling the stream.
async fn call(
    toolbox: &Toolbox<'_>,
    answer: &mut Answer,
    events: Option<&super::Events>,
    tool: ToolName,
    arguments: Value,
) -> DomainResult<Result<ToolResult, ToolError>> {
    if let Some(events) = events {
        let _ = events.send(super::provider::StreamEvent::ToolCall {
            name: tool.as_str().to_owned(),
            arguments: arguments.clone(),
        });
    }
    answer.tool_calls.push((tool, arguments.clone()));
    let result = match toolbox.run(tool, &arguments).await {
        Err(ToolError::Failed(error)) => return Err(error),
        other => other,
    };
    if let Ok(found) = &result {
        answer.sources.push(Source {
            tool: tool.as_str().to_owned(),
            arguments,
            figures: serde_json::to_value(&found.figures).unwrap_or(Value::Null),
            from: found.period.map(|p| format_date(p.from)),
            to: found.period.map(|p| format_date(p.to)),
        });
    }
    Ok(result)
}

impl BuiltIn {
    pub async fn answer(
        &self,
        toolbox: &Toolbox<'_>,
        message: &str,
        lang: Lang,
        events: Option<&super::Events>,
    ) -> DomainResult<Answer> {
        let text = message.to_lowercase();
        let catalog = toolbox.catalog;
        let words = content_words(&text);
        let category_asked = has_any(&text, &["category", "kategori"]);
        let subject = matching::find(
            &words,
            &catalog.entries,
            &catalog.categories,
            category_asked,
        );
        let named_words = match &subject {
            Subject::Nothing => Vec::new(),
            _ => words.clone(),
        };
        let intent = intent_of(&text, &named_words);
        let mut answer = Answer {
            text: String::new(),
            sources: Vec::new(),
            actions: Vec::new(),
            tool_calls: Vec::new(),
        };
        let say = |en: String, id: String| match lang {
            Lang::En => en,
            Lang::Id => id,
        };
        let today = toolbox.calendar.today();
        let money = |m: crate::domain::money::Money| format_money(m, &catalog.currency, lang);
        let units = |n: i64| format_units(n, lang);
        let admin = toolbox.audience == Audience::Admin;

        answer.text = match intent {
            Intent::Greeting => say(
                format!("Hello! {}", capabilities(Lang::En, admin)),
                format!("Halo! {}", capabilities(Lang::Id, admin)),
            ),
            Intent::Help | Intent::Unknown => {
                let lead = if intent == Intent::Help {
                    say(String::new(), String::new())
                } else {
                    say(
                        "I can't answer that from the shop's data. ".into(),
                        "Saya tidak bisa menjawab itu dari data toko. ".into(),
                    )
                };
                format!("{lead}{}", capabilities(lang, admin))
            }
            Intent::RestockAction { quantity } => {
                if !admin {
                    say(
                        "Only an admin can restock. I can tell you a product's stock, low stock, upcoming events, store sales and the top sellers.".into(),
                        "Hanya admin yang bisa menambah stok. Saya bisa memberi tahu stok produk, stok menipis, acara mendatang, penjualan toko dan produk terlaris.".into(),
                    )
                } else if !(1..=crate::domain::stock::MAX_STOCK).contains(&quantity) {
                    say(
                        format!("A restock must add between 1 and {} units.", units(crate::domain::stock::MAX_STOCK)),
                        format!("Penambahan stok harus antara 1 dan {} unit.", units(crate::domain::stock::MAX_STOCK)),
                    )
                } else {
                    match &subject {
                        Subject::Products(found) if found.len() == 1 => {
                            let product = &catalog.rows[found[0]];
                            let label = catalog.entries[found[0]].label();
                            let result = call(toolbox, &mut answer, events, ToolName::FindProducts, json!({"query": product.sku})).await?;
                            let stock = match result {
                                Ok(ToolResult { figures: Figures::Products { items }, .. }) => items.first().map_or(product.stock, |p| p.stock),
                                _ => product.stock,
                            };
                            answer.actions.push(Action::restock(
                                &product.sku,
                                &product.name,
                                product.variation.as_deref(),
                                quantity,
                                say(format!("Requested in the assistant: add {quantity} units"), format!("Diminta lewat asisten: tambah {quantity} unit")),
                            ));
                            say(
                                format!("I have prepared a restock of {} units of {label} ({}); it has {} in stock now, {} after the restock. Confirm it to apply; nothing changes until you do.", units(quantity), product.sku, units(stock), units(stock + quantity)),
                                format!("Saya siapkan penambahan stok {} unit {label} ({}); stok sekarang {}, menjadi {} setelahnya. Konfirmasi untuk menerapkannya; belum ada yang berubah sebelum Anda konfirmasi.", units(quantity), product.sku, units(stock), units(stock + quantity)),
                            )
                        }
                        Subject::Products(found) => which_one(catalog, found, lang),
                        _ => say(
                            "Which product should I restock? Name it or give its SKU, e.g. \"restock 120 BRD-001\".".into(),
                            "Produk mana yang mau ditambah stoknya? Sebutkan nama atau SKU-nya, mis. \"tambah stok BRD-001 120\".".into(),
                        ),
                    }
                }
            }
            Intent::RestockAdvice { days } => {
                let days = days.clamp(1, 365);
                match call(toolbox, &mut answer, events, ToolName::RestockRecommendations, json!({"days": days})).await? {
                    Ok(ToolResult { figures: Figures::Restock(list), period }) => {
                        let period = period.map(|p| range_text(&p, lang)).unwrap_or_default();
                        let needed: Vec<_> = list.items.iter().filter(|r| r.gap > 0).collect();
                        let mut out = if list.items.is_empty() && !list.without_model.is_empty() {
                            say(
                                "No product has a trained forecast model yet, so I have no restock advice. I queued their training; ask again in a few minutes.".into(),
                                "Belum ada produk yang punya model prediksi, jadi belum ada saran restock. Pelatihannya sudah dijadwalkan; coba tanya lagi beberapa menit lagi.".into(),
                            )
                        } else if needed.is_empty() {
                            say(
                                format!("No product needs restocking for the next {days} days ({period})."),
                                format!("Tidak ada produk yang perlu ditambah stoknya untuk {days} hari ke depan ({period})."),
                            )
                        } else {
                            say(
                                format!("{} products need restocking for the next {days} days ({period}), most urgent first:", needed.len()),
                                format!("{} produk perlu ditambah stoknya untuk {days} hari ke depan ({period}), paling mendesak dulu:", needed.len()),
                            )
                        };
                        for r in needed.iter().take(MAX_LINES) {
                            let urgency = urgency_text(r.urgency, lang);
                            let runs_out = r.stockout_date.as_deref().map(|d| say(format!(", runs out around {d}"), format!(", habis sekitar {d}"))).unwrap_or_default();
                            out.push_str(&say(
                                format!("\n- {} ({}): order {} units (stock {}, needs {}; {urgency} urgency{runs_out})", product_label(&r.product, r.product_variation.as_deref()), r.product_sku, units(r.gap), units(r.current), units(r.optimal)),
                                format!("\n- {} ({}): tambah {} unit (stok {}, butuh {}; urgensi {urgency}{runs_out})", product_label(&r.product, r.product_variation.as_deref()), r.product_sku, units(r.gap), units(r.current), units(r.optimal)),
                            ));
                        }
                        more(&mut out, needed.len(), lang);
                        for r in needed.iter().take(MAX_ACTIONS) {
                            answer.actions.push(Action::restock(&r.product_sku, &r.product, r.product_variation.as_deref(), r.gap, r.suggestion.clone()));
                        }
                        if !list.without_model.is_empty() && !list.items.is_empty() {
                            out.push_str(&say(
                                format!("\n{} products have no forecast model yet, so they have no advice (their training is queued): {}.", list.without_model.len(), list.without_model.join(", ")),
                                format!("\n{} produk belum punya model prediksi, jadi belum ada sarannya (pelatihannya sudah dijadwalkan): {}.", list.without_model.len(), list.without_model.join(", ")),
                            ));
                        }
                        out
                    }
                    Err(error) => refusal(&error, lang, admin),
                    Ok(_) => String::new(),
                }
            }
            Intent::LowStock => match call(toolbox, &mut answer, events, ToolName::LowStock, json!({})).await? {
                Ok(ToolResult { figures: Figures::LowStock(low), .. }) => {
                    let mut out = if low.total == 0 {
                        say(
                            format!("No active product is at or below the low-stock threshold ({} units).", low.threshold),
                            format!("Tidak ada produk aktif dengan stok di bawah atau sama dengan batas minimum ({} unit).", low.threshold),
                        )
                    } else {
                        say(
                            format!("{} products are at or below the low-stock threshold ({} units):", low.total, low.threshold),
                            format!("{} produk stoknya di bawah atau sama dengan batas minimum ({} unit):", low.total, low.threshold),
                        )
                    };
                    for p in low.items.iter().take(MAX_LINES) {
                        out.push_str(&say(
                            format!("\n- {} ({}): {} in stock", product_label(&p.name, p.variation.as_deref()), p.sku, units(p.stock)),
                            format!("\n- {} ({}): stok {}", product_label(&p.name, p.variation.as_deref()), p.sku, units(p.stock)),
                        ));
                    }
                    more(&mut out, low.total as usize, lang);
                    out
                }
                Err(error) => refusal(&error, lang, admin),
                Ok(_) => String::new(),
            },
            Intent::Forecast { days } => match &subject {
                Subject::Products(found) if found.len() <= MAX_FOR_EACH => {
                    if !(1..=90).contains(&days) {
                        say("I forecast 1 to 90 days ahead.".into(), "Prediksi bisa untuk 1 sampai 90 hari ke depan.".into())
                    } else {
                        let mut parts = Vec::new();
                        for &i in found {
                            let sku = &catalog.rows[i].sku;
                            let label = catalog.entries[i].label();
                            let part = match call(toolbox, &mut answer, events, ToolName::Forecast, json!({"sku": sku, "days": days})).await? {
                                Ok(ToolResult { figures: Figures::Forecast(f), period }) if f.available => {
                                    let period = period.map(|p| range_text(&p, lang)).unwrap_or_default();
                                    let total = f.total_units.unwrap_or(0.0);
                                    let advice = f.recommendation.as_ref().map(|r| {
                                        if r.gap > 0 {
                                            say(format!(" Stock is {}; restock {} units to cover it with a safety buffer ({} urgency).", units(r.current), units(r.gap), urgency_text(r.urgency, Lang::En)),
                                                format!(" Stok sekarang {}; tambah {} unit agar cukup dengan cadangan (urgensi {}).", units(r.current), units(r.gap), urgency_text(r.urgency, Lang::Id)))
                                        } else {
                                            say(format!(" Stock of {} is enough.", units(r.current)), format!(" Stok {} sudah cukup.", units(r.current)))
                                        }
                                    }).unwrap_or_default();
                                    say(
                                        format!("Forecast for {label} ({sku}), next {days} days ({period}): about {} units in total.{advice}", decimal(total, lang)),
                                        format!("Prediksi {label} ({sku}), {days} hari ke depan ({period}): sekitar {} unit total.{advice}", decimal(total, lang)),
                                    )
                                }
                                Ok(_) => say(
                                    format!("{label} ({sku}) has no trained forecast model yet; I queued its training, ask again in a few minutes."),
                                    format!("{label} ({sku}) belum punya model prediksi; pelatihannya sudah dijadwalkan, coba tanya lagi beberapa menit lagi."),
                                ),
                                Err(error) => refusal(&error, lang, admin),
                            };
                            parts.push(part);
                            if !admin {
                                break;
                            }
                        }
                        parts.join("\n")
                    }
                }
                Subject::Products(found) => which_one(catalog, found, lang),
                _ => say(
                    "Which product should I forecast? Name it or give its SKU, e.g. \"forecast for BRD-001\".".into(),
                    "Produk mana yang mau diprediksi? Sebutkan nama atau SKU-nya, mis. \"prediksi BRD-001 7 hari\".".into(),
                ),
            },
            Intent::TopSellers => {
                let period = match periods::find(&text, today) {
                    Mention::Found(p) => p,
                    Mention::Invalid(why) => return Ok(invalid_period(answer, &why, lang)),
                    Mention::None => periods::Relative::LastDays(30).resolve(today),
                };
                let limit = first_number(&text).filter(|n| (1..=20).contains(n) && !text.contains(&format!("{n} day")) && !text.contains(&format!("{n} hari"))).unwrap_or(5);
                match call(toolbox, &mut answer, events, ToolName::TopSellers, json!({"from": format_date(period.from), "to": format_date(period.to), "limit": limit})).await? {
                    Ok(ToolResult { figures: Figures::TopSellers { items }, .. }) => {
                        let range = range_text(&period, lang);
                        let mut out = if items.is_empty() {
                            say(format!("No sales {range}."), format!("Tidak ada penjualan {range}."))
                        } else {
                            say(format!("Top sellers by revenue {range}:"), format!("Produk terlaris menurut pendapatan {range}:"))
                        };
                        for (n, t) in items.iter().enumerate() {
                            out.push_str(&say(
                                format!("\n{}. {} ({}): {} from {} units", n + 1, t.name, t.sku, money(t.revenue), units(t.units)),
                                format!("\n{}. {} ({}): {} dari {} unit", n + 1, t.name, t.sku, money(t.revenue), units(t.units)),
                            ));
                        }
                        out
                    }
                    Err(error) => refusal(&error, lang, admin),
                    Ok(_) => String::new(),
                }
            }
            Intent::Sales => {
                let period = match periods::find(&text, today) {
                    Mention::Found(p) => p,
                    Mention::Invalid(why) => return Ok(invalid_period(answer, &why, lang)),
                    Mention::None => periods::Relative::LastDays(7).resolve(today),
                };
                let (from, to) = (format_date(period.from), format_date(period.to));
                let range = range_text(&period, lang);
                let targets: Vec<Value> = match &subject {
                    Subject::Products(found) if found.len() > MAX_FOR_EACH => {
                        return Ok(Answer { text: which_one(catalog, found, lang), ..answer });
                    }
                    Subject::Products(found) => found.iter().map(|&i| json!({"sku": catalog.rows[i].sku, "from": from, "to": to})).collect(),
                    Subject::Category(name) => vec![json!({"category": name, "from": from, "to": to})],
                    Subject::Nothing => vec![json!({"from": from, "to": to})],
                };
                let mut parts = Vec::new();
                for arguments in targets {
                    let part = match call(toolbox, &mut answer, events, ToolName::Sales, arguments).await? {
                        Ok(ToolResult { figures: Figures::Sales(s), .. }) => {
                            let what = match (&s.sku, &s.category, s.transactions) {
                                (Some(sku), _, _) => {
                                    let variation = catalog.rows.iter().find(|p| &p.sku == sku).and_then(|p| p.variation.clone());
                                    format!("{} ({sku})", product_label(s.name.as_deref().unwrap_or(sku), variation.as_deref()))
                                }
                                (None, Some(category), _) => say(format!("the {category} category"), format!("kategori {category}")),
                                _ => say("the whole store".into(), "seluruh toko".into()),
                            };
                            let transactions = s.transactions.map(|n| say(format!(" in {} transactions", units(n)), format!(" dari {} transaksi", units(n)))).unwrap_or_default();
                            say(
                                format!("Sales of {what} {range}: {} units, revenue {}{transactions}.", units(s.units), money(s.revenue)),
                                format!("Penjualan {what} {range}: {} unit, pendapatan {}{transactions}.", units(s.units), money(s.revenue)),
                            )
                        }
                        Err(error) => refusal(&error, lang, admin),
                        Ok(_) => String::new(),
                    };
                    parts.push(part);
                }
                parts.join("\n")
            }
            Intent::Events { days } => {
                let days = days.clamp(1, 366);
                match call(toolbox, &mut answer, events, ToolName::UpcomingEvents, json!({"days": days})).await? {
                    Ok(ToolResult { figures: Figures::Events { items }, period }) => {
                        let range = period.map(|p| range_text(&p, lang)).unwrap_or_default();
                        let mut out = if items.is_empty() {
                            say(format!("No events in the next {days} days ({range})."), format!("Tidak ada acara dalam {days} hari ke depan ({range})."))
                        } else {
                            say(format!("{} events in the next {days} days ({range}):", items.len()), format!("{} acara dalam {days} hari ke depan ({range}):", items.len()))
                        };
                        for e in items.iter().take(MAX_LINES) {
                            let when = match &e.end_date {
                                Some(end) if end != &e.date => format!("{} – {end}", e.date),
                                _ => e.date.clone(),
                            };
                            let kind = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                            out.push_str(&format!("\n- {} ({kind}): {when}", e.name));
                        }
                        more(&mut out, items.len(), lang);
                        out
                    }
                    Err(error) => refusal(&error, lang, admin),
                    Ok(_) => String::new(),
                }
            }
            Intent::Stock => match &subject {
                Subject::Products(found) if found.len() <= 8 => {
                    let query = found.iter().map(|&i| catalog.rows[i].sku.clone()).collect::<Vec<_>>();
                    let mut lines = Vec::new();
                    if found.len() > 1 {
                        lines.push(say(format!("{} products match:", found.len()), format!("{} produk cocok:", found.len())));
                    }
                    for sku in query {
                        if let Ok(ToolResult { figures: Figures::Products { items }, .. }) = call(toolbox, &mut answer, events, ToolName::FindProducts, json!({"query": sku})).await? {
                            for p in items.iter().take(1) {
                                let cost = p.cost_price.map(|c| say(format!(", cost {}", money(c)), format!(", harga pokok {}", money(c)))).unwrap_or_default();
                                let label = product_label(&p.name, p.variation.as_deref());
                                lines.push(say(
                                    format!("{label} ({}): {} in stock, price {}{cost}.", p.sku, units(p.stock), money(p.price)),
                                    format!("{label} ({}): stok {}, harga {}{cost}.", p.sku, units(p.stock), money(p.price)),
                                ));
                            }
                        }
                    }
                    lines.join("\n")
                }
                Subject::Products(found) => which_one(catalog, found, lang),
                Subject::Category(name) => {
                    let members: Vec<usize> = (0..catalog.rows.len()).filter(|&i| catalog.rows[i].category.as_deref() == Some(name.as_str())).collect();
                    let mut out = say(format!("Stock in the {name} category:"), format!("Stok kategori {name}:"));
                    let _ = call(toolbox, &mut answer, events, ToolName::FindProducts, json!({"query": name})).await?;
                    for &i in members.iter().take(MAX_LINES * 2) {
                        let p = &catalog.rows[i];
                        out.push_str(&format!("\n- {} ({}): {}", catalog.entries[i].label(), p.sku, units(p.stock)));
                    }
                    out
                }
                Subject::Nothing => say(
                    "Which product? Name it or give its SKU, e.g. \"stock of BRD-001\".".into(),
                    "Produk yang mana? Sebutkan nama atau SKU-nya, mis. \"stok BRD-001\".".into(),
                ),
            },
        };
        Ok(answer)
    }
}

fn invalid_period(mut answer: Answer, why: &str, lang: Lang) -> Answer {
    answer.text = match lang {
        Lang::En => format!(
            "I could not read that period ({why}). Try \"last month\", \"1-15 November\" or \"2026-11-01 to 2026-11-15\"."
        ),
        Lang::Id => format!(
            "Saya tidak bisa membaca periode itu ({why}). Coba \"bulan lalu\", \"1-15 November\" atau \"2026-11-01 sampai 2026-11-15\"."
        ),
    };
    answer
}

fn product_label(name: &str, variation: Option<&str>) -> String {
    match variation {
        Some(v) => format!("{name} ({v})"),
        None => name.to_owned(),
    }
}

fn which_one(catalog: &Catalog, found: &[usize], lang: Lang) -> String {
    let options: Vec<String> = found
        .iter()
        .take(8)
        .map(|&i| format!("{} ({})", catalog.entries[i].label(), catalog.rows[i].sku))
        .collect();
    match lang {
        Lang::En => format!(
            "That name fits {} products; which one do you mean? {}",
            found.len(),
            options.join(", ")
        ),
        Lang::Id => format!(
            "Nama itu cocok dengan {} produk; yang mana maksud Anda? {}",
            found.len(),
            options.join(", ")
        ),
    }
}

fn more(out: &mut String, total: usize, lang: Lang) {
    if total > MAX_LINES {
        out.push_str(&match lang {
            Lang::En => format!("\n… and {} more.", total - MAX_LINES),
            Lang::Id => format!("\n… dan {} lainnya.", total - MAX_LINES),
        });
    }
}

fn urgency_text(urgency: Urgency, lang: Lang) -> &'static str {
    match (urgency, lang) {
        (Urgency::High, Lang::En) => "high",
        (Urgency::Medium, Lang::En) => "medium",
        (Urgency::Low, Lang::En) => "low",
        (Urgency::High, Lang::Id) => "tinggi",
        (Urgency::Medium, Lang::Id) => "sedang",
        (Urgency::Low, Lang::Id) => "rendah",
    }
}

/// "from 2026-11-01 to 2026-11-30", or "on 2026-11-05" for one day.
fn range_text(period: &Period, lang: Lang) -> String {
    let (from, to) = (format_date(period.from), format_date(period.to));
    match (lang, from == to) {
        (Lang::En, true) => format!("on {from}"),
        (Lang::En, false) => format!("from {from} to {to}"),
        (Lang::Id, true) => format!("pada {from}"),
        (Lang::Id, false) => format!("dari {from} sampai {to}"),
    }
}

fn decimal(value: f64, lang: Lang) -> String {
    let rounded = value.round() as i64;
    format_units(rounded, lang)
}

fn refusal(error: &ToolError, lang: Lang, admin: bool) -> String {
    match error {
        ToolError::Forbidden(_) => match lang {
            Lang::En => format!(
                "That is not available to your role. {}",
                capabilities(lang, admin)
            ),
            Lang::Id => format!(
                "Itu tidak tersedia untuk peran Anda. {}",
                capabilities(lang, admin)
            ),
        },
        ToolError::NotFound(what) => match lang {
            Lang::En => format!("I could not find that: {what}."),
            Lang::Id => format!("Tidak ditemukan: {what}."),
        },
        ToolError::Invalid(why) => match lang {
            Lang::En => format!("I could not use that: {why}."),
            Lang::Id => format!("Tidak bisa dipakai: {why}."),
        },
        ToolError::Failed(_) => String::new(),
    }
}

/// What the assistant can do for this role, plainly.
pub fn capabilities(lang: Lang, admin: bool) -> String {
    match (lang, admin) {
        (Lang::En, true) => "I answer from the shop's own data: what to restock and how much (\"what should I restock this week?\"), low stock, a product's forecast (\"forecast for BRD-001\"), sales of a product or category over a period (\"croissant sales last month\", \"sales 1-15 November\"), top sellers, upcoming events and a product's stock and price. I can prepare a restock (\"restock 120 brownies\") for you to confirm; I never change anything myself.".into(),
        (Lang::Id, true) => "Saya menjawab dari data toko sendiri: apa yang perlu di-restock dan berapa (\"apa yang perlu di-restock minggu ini?\"), stok menipis, prediksi produk (\"prediksi roti tawar 7 hari\"), penjualan produk atau kategori dalam suatu periode (\"penjualan croissant bulan lalu\", \"penjualan 1-15 November\"), produk terlaris, acara mendatang, serta stok dan harga produk. Saya bisa menyiapkan penambahan stok (\"tambah stok brownies 120\") untuk Anda konfirmasi; saya tidak pernah mengubah apa pun sendiri.".into(),
        (Lang::En, false) => "I answer from the shop's own data: low stock, a product's stock and price, upcoming events, the store's sales over a period and the top sellers. Forecasts, restock advice and cost prices are for admins.".into(),
        (Lang::Id, false) => "Saya menjawab dari data toko sendiri: stok menipis, stok dan harga produk, acara mendatang, penjualan toko dalam suatu periode dan produk terlaris. Prediksi, saran restock dan harga pokok hanya untuk admin.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_intents() {
        assert_eq!(detect_language("prediksi roti tawar 7 hari"), Lang::Id);
        assert_eq!(detect_language("tambah stok brownies 120"), Lang::Id);
        assert_eq!(detect_language("forecast for BRD-001"), Lang::En);
        assert_eq!(detect_language("restock 120 brownies"), Lang::En);
        assert_eq!(
            detect_language("penjualan kategori roti bulan lalu"),
            Lang::Id
        );
        let w = vec!["brownies".to_owned()];
        assert_eq!(
            intent_of("restock 120 brownies", &w),
            Intent::RestockAction { quantity: 120 }
        );
        assert_eq!(
            intent_of("tambah stok brownies 120", &w),
            Intent::RestockAction { quantity: 120 }
        );
        assert_eq!(detect_language("restok 12 brownies"), Lang::Id);
        assert_eq!(
            intent_of("restok 12 brownies", &w),
            Intent::RestockAction { quantity: 12 }
        );
        assert_eq!(content_words("restok 12 brownies"), ["brownies"]);
        assert_eq!(
            intent_of("what should i restock this week?", &[]),
            Intent::RestockAdvice { days: 7 }
        );
        assert_eq!(
            intent_of("prediksi roti tawar 14 hari", &w),
            Intent::Forecast { days: 14 }
        );
        assert_eq!(
            intent_of("which products are running low?", &[]),
            Intent::LowStock
        );
        assert_eq!(intent_of("top sellers last month", &[]), Intent::TopSellers);
        assert_eq!(
            intent_of("how did croissants sell last month?", &w),
            Intent::Sales
        );
        assert_eq!(
            intent_of("upcoming events", &[]),
            Intent::Events { days: 30 }
        );
        assert_eq!(intent_of("stok brownies", &w), Intent::Stock);
        assert_eq!(intent_of("halo", &[]), Intent::Greeting);
        assert_eq!(intent_of("what is the weather", &[]), Intent::Unknown);
    }

    #[test]
    fn content_words_drop_the_question() {
        assert_eq!(
            content_words("how did croissants sell last month?"),
            ["croissants"]
        );
        assert_eq!(
            content_words("prediksi roti tawar 7 hari"),
            ["roti", "tawar"]
        );
        assert_eq!(
            content_words("penjualan 1-15 november"),
            Vec::<String>::new()
        );
    }
}
