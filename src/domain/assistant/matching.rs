//! Finding the products (or the category) a message is about, in the user's own words:
//! SKUs exactly, names by their words with typos forgiven ("browines" is Brownies).

use strsim::normalized_damerau_levenshtein;

/// One product as the matcher sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub sku: String,
    pub name: String,
    pub variation: Option<String>,
    pub category: Option<String>,
    words: Vec<String>,
}

impl Entry {
    pub fn new(sku: &str, name: &str, variation: Option<&str>, category: Option<&str>) -> Self {
        let mut words = words_of(name);
        words.extend(variation.map(words_of).unwrap_or_default());
        Entry {
            sku: sku.to_owned(),
            name: name.to_owned(),
            variation: variation.map(str::to_owned),
            category: category.map(str::to_owned),
            words,
        }
    }

    /// "Croissant (Butter)": the name people know, with the variation that tells apart
    /// products of one name.
    pub fn label(&self) -> String {
        match &self.variation {
            Some(v) => format!("{} ({v})", self.name),
            None => self.name.clone(),
        }
    }
}

/// What a message names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Nothing,
    /// Products, best match first (several when the words fit several equally).
    Products(Vec<usize>),
    Category(String),
}

/// Lowercase words of letters and digits (SKU characters kept together).
pub fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .map(|w| w.trim_matches(|c: char| c == '-' || c == '.' || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// How alike a word of the message and a word of a name are, 0..1. Short words must match
/// exactly: one typo in a three-letter word is another word.
fn similarity(said: &str, known: &str) -> f64 {
    if said == known {
        return 1.0;
    }
    if said.chars().count() < 4 || known.chars().count() < 4 {
        return 0.0;
    }
    normalized_damerau_levenshtein(said, known)
}

/// Alike enough to be the same word with a typo or a plural "s".
const SAME_WORD: f64 = 0.75;

/// Finds what `message_words` (already stripped of the question's own words) name among
/// `entries` and `categories`. `category_asked`: the user said "category"/"kategori".
pub fn find(
    message_words: &[String],
    entries: &[Entry],
    categories: &[String],
    category_asked: bool,
) -> Subject {
    // An SKU written out wins outright.
    for word in message_words {
        if let Some(i) = entries
            .iter()
            .position(|e| e.sku.eq_ignore_ascii_case(word))
        {
            return Subject::Products(vec![i]);
        }
    }
    let category = best_category(message_words, categories);
    if category_asked && let Some((name, _)) = &category {
        return Subject::Category(name.clone());
    }
    // Per product: how many of the message's words it explains, and how well.
    let mut best_count = 0;
    let mut scored: Vec<(usize, usize, f64)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let mut count = 0;
        let mut total = 0.0;
        for word in message_words {
            let best = entry
                .words
                .iter()
                .map(|known| similarity(word, known))
                .fold(0.0, f64::max);
            if best >= SAME_WORD {
                count += 1;
                total += best;
            }
        }
        if count > 0 {
            best_count = best_count.max(count);
            scored.push((i, count, total));
        }
    }
    scored.retain(|(_, count, _)| *count == best_count);
    // Exact words before typo matches; then the catalogue's order.
    let top = scored
        .iter()
        .map(|(_, _, total)| *total)
        .fold(0.0, f64::max);
    scored.retain(|(_, _, total)| top - total < 0.2);
    // A word that names a whole category and several products ("roti") means the category.
    if let Some((name, words_matched)) = category
        && (scored.is_empty() || (scored.len() > 1 && words_matched >= best_count))
    {
        return Subject::Category(name);
    }
    if scored.is_empty() {
        return Subject::Nothing;
    }
    Subject::Products(scored.into_iter().map(|(i, _, _)| i).collect())
}

/// The category all of whose words the message says (typos forgiven), with that count.
fn best_category(message_words: &[String], categories: &[String]) -> Option<(String, usize)> {
    categories
        .iter()
        .filter_map(|name| {
            let words: Vec<String> = words_of(name).into_iter().filter(|w| w != "&").collect();
            let all = !words.is_empty()
                && words.iter().all(|known| {
                    message_words
                        .iter()
                        .any(|said| similarity(said, known) >= SAME_WORD)
                });
            all.then(|| (name.clone(), words.len()))
        })
        .max_by_key(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> (Vec<Entry>, Vec<String>) {
        let entries = vec![
            Entry::new("BRD-001", "Roti Tawar Gandum", None, Some("Roti")),
            Entry::new("BRD-002", "Roti Tawar Putih", None, Some("Roti")),
            Entry::new("BRD-003", "Roti Sobek", Some("Cokelat"), Some("Roti")),
            Entry::new(
                "CRS-001",
                "Croissant",
                Some("Butter"),
                Some("Croissant & Pastry"),
            ),
            Entry::new(
                "CRS-002",
                "Croissant",
                Some("Cokelat"),
                Some("Croissant & Pastry"),
            ),
            Entry::new("CKE-002", "Brownies Panggang", None, Some("Kue")),
            Entry::new("DRK-002", "Es Teh Manis", None, Some("Minuman")),
        ];
        let categories = ["Roti", "Croissant & Pastry", "Kue", "Minuman"]
            .map(String::from)
            .to_vec();
        (entries, categories)
    }

    fn subject(text: &str) -> Subject {
        let (entries, categories) = demo();
        find(&words_of(text), &entries, &categories, false)
    }

    #[test]
    fn names_in_the_users_words() {
        assert_eq!(subject("roti tawar"), Subject::Products(vec![0, 1]));
        assert_eq!(subject("roti tawar gandum"), Subject::Products(vec![0]));
        assert_eq!(subject("brownies"), Subject::Products(vec![5]));
        assert_eq!(subject("browines"), Subject::Products(vec![5]));
        assert_eq!(subject("croissants"), Subject::Products(vec![3, 4]));
        assert_eq!(subject("croissant cokelat"), Subject::Products(vec![4]));
        assert_eq!(subject("brd-002"), Subject::Products(vec![1]));
        assert_eq!(subject("es teh"), Subject::Products(vec![6]));
        assert_eq!(subject("roti"), Subject::Category("Roti".into()));
        assert_eq!(subject("minuman"), Subject::Category("Minuman".into()));
        assert_eq!(subject("weather"), Subject::Nothing);
    }
}
