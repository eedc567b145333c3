//! The demo shop's catalogue: categories, demand profiles and products.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    Bread,
    Pastry,
    Cake,
    Drink,
    Snack,
    Staple,
}

impl Category {
    pub(super) const ALL: [Category; 6] = [
        Category::Bread,
        Category::Pastry,
        Category::Cake,
        Category::Drink,
        Category::Snack,
        Category::Staple,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Category::Bread => "Roti",
            Category::Pastry => "Croissant & Pastry",
            Category::Cake => "Kue",
            Category::Drink => "Minuman",
            Category::Snack => "Jajanan",
            Category::Staple => "Susu & Sembako",
        }
    }
}

/// How a product's demand reacts to the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Profile {
    /// Sells the same all year.
    Everyday,
    /// Bought for breakfast and for sahur during Ramadan.
    Breakfast,
    /// Takjil: drinks and snacks to break the fast; Ramadan is their season.
    Takjil,
    /// Lebaran cookies and cakes: a big wave in the weeks before Idul Fitri.
    Lebaran,
    /// Celebration cakes: Christmas, New Year and weekends.
    Celebration,
}

pub(super) struct CatalogEntry {
    pub(super) sku: &'static str,
    pub(super) name: &'static str,
    pub(super) category: Category,
    pub(super) variation: Option<&'static str>,
    /// Sale price in rupiah.
    pub(super) price: i64,
    /// Relative share of basket lines on an ordinary day.
    pub(super) popularity: f64,
    /// Mean of the extra units beyond the first on a line.
    pub(super) extra_units: f64,
    pub(super) profile: Profile,
}

#[allow(clippy::too_many_arguments, reason = "a table row, read positionally")]
pub(super) const fn item(
    sku: &'static str,
    name: &'static str,
    category: Category,
    variation: Option<&'static str>,
    price: i64,
    popularity: f64,
    extra_units: f64,
    profile: Profile,
) -> CatalogEntry {
    CatalogEntry {
        sku,
        name,
        category,
        variation,
        price,
        popularity,
        extra_units,
        profile,
    }
}

use Category::{Bread, Cake, Drink, Pastry, Snack, Staple};
use Profile::{Breakfast, Celebration, Everyday, Lebaran, Takjil};

#[rustfmt::skip]
pub(super) const CATALOG: &[CatalogEntry] = &[
    item("BRD-001", "Roti Tawar Gandum", Bread, None, 18_000, 6.0, 0.2, Breakfast),
    item("BRD-002", "Roti Tawar Putih", Bread, None, 15_000, 7.0, 0.2, Breakfast),
    item("BRD-003", "Roti Sobek", Bread, Some("Cokelat"), 22_000, 5.0, 0.3, Everyday),
    item("BRD-004", "Roti Sobek", Bread, Some("Keju"), 24_000, 4.0, 0.3, Everyday),
    item("BRD-005", "Roti Manis Kelapa", Bread, None, 8_000, 6.0, 1.0, Everyday),
    item("BRD-006", "Roti Abon Sapi", Bread, None, 12_000, 5.0, 0.6, Breakfast),
    item("BRD-007", "Baguette", Bread, None, 25_000, 1.5, 0.1, Everyday),
    item("CRS-001", "Croissant", Pastry, Some("Butter"), 15_000, 6.0, 0.5, Breakfast),
    item("CRS-002", "Croissant", Pastry, Some("Cokelat"), 18_000, 5.0, 0.5, Everyday),
    item("CRS-003", "Croissant", Pastry, Some("Almond"), 22_000, 3.0, 0.4, Everyday),
    item("CRS-004", "Danish Blueberry", Pastry, None, 20_000, 2.5, 0.3, Everyday),
    item("CRS-005", "Pain au Chocolat", Pastry, None, 19_000, 3.0, 0.4, Breakfast),
    item("CRS-006", "Cinnamon Roll", Pastry, None, 17_000, 3.0, 0.4, Everyday),
    item("CKE-001", "Bolu Pandan", Cake, None, 45_000, 2.0, 0.1, Celebration),
    item("CKE-002", "Brownies Panggang", Cake, None, 55_000, 2.5, 0.1, Celebration),
    item("CKE-003", "Lapis Legit", Cake, Some("Loyang 20 cm"), 150_000, 0.4, 0.1, Lebaran),
    item("CKE-004", "Nastar", Cake, Some("Toples 500 g"), 120_000, 0.5, 0.4, Lebaran),
    item("CKE-005", "Kastengel", Cake, Some("Toples 500 g"), 125_000, 0.4, 0.4, Lebaran),
    item("CKE-006", "Black Forest", Cake, Some("Potong"), 28_000, 3.0, 0.5, Celebration),
    item("CKE-007", "Kue Ulang Tahun Cokelat", Cake, Some("20 cm"), 145_000, 0.6, 0.0, Celebration),
    item("DRK-001", "Kopi Susu Gula Aren", Drink, Some("Dingin"), 18_000, 7.0, 0.4, Everyday),
    item("DRK-002", "Es Teh Manis", Drink, None, 8_000, 6.0, 0.8, Takjil),
    item("DRK-003", "Air Mineral 600 ml", Drink, None, 8_000, 5.0, 0.6, Everyday),
    item("DRK-004", "Jus Jeruk", Drink, None, 15_000, 3.0, 0.3, Takjil),
    item("DRK-005", "Cokelat Panas", Drink, Some("Panas"), 20_000, 2.5, 0.2, Everyday),
    item("DRK-006", "Es Buah", Drink, None, 15_000, 1.5, 0.8, Takjil),
    item("SNK-001", "Risoles Mayo", Snack, None, 9_000, 5.0, 1.5, Takjil),
    item("SNK-002", "Kroket Ayam", Snack, None, 10_000, 4.0, 1.2, Takjil),
    item("SNK-003", "Pastel Sayur", Snack, None, 8_000, 4.0, 1.2, Everyday),
    item("SNK-004", "Donat", Snack, Some("Gula"), 8_000, 5.0, 1.5, Everyday),
    item("SNK-005", "Donat", Snack, Some("Cokelat"), 10_000, 5.0, 1.5, Everyday),
    item("SMB-001", "Susu UHT Full Cream 1 L", Staple, None, 21_000, 4.0, 0.4, Breakfast),
    item("SMB-002", "Telur Ayam 10 butir", Staple, None, 30_000, 3.0, 0.1, Breakfast),
    item("SMB-003", "Selai Srikaya", Staple, None, 25_000, 1.5, 0.1, Breakfast),
    item("SMB-004", "Kurma Sukari 500 g", Staple, None, 65_000, 0.5, 0.3, Takjil),
    item("SMB-005", "Sirup Cocopandan 460 ml", Staple, None, 27_000, 0.8, 0.5, Lebaran),
];
