//! The shop as one chat turn sees it: active products (for name matching), categories,
//! currency and thresholds. Read once per turn: a few small queries, far cheaper than
//! keeping a second copy of the catalogue in step with every write.

use super::matching::Entry;
use crate::domain::DomainResult;
use crate::domain::products::{Audience, ProductView};
use crate::domain::settings;
use crate::domain::sku::Sku;
use crate::storage::{Db, categories, products};

pub struct Catalog {
    pub rows: Vec<products::ProductRow>,
    pub entries: Vec<Entry>,
    pub categories: Vec<String>,
    /// ISO 4217 code of the store's currency.
    pub currency: String,
    pub low_stock_threshold: i64,
}

impl Catalog {
    pub async fn load(db: &Db) -> DomainResult<Catalog> {
        let rows: Vec<products::ProductRow> = products::all(db.pool())
            .await?
            .into_iter()
            .filter(|p| p.is_active)
            .collect();
        let entries = rows
            .iter()
            .map(|p| {
                Entry::new(
                    &p.sku,
                    &p.name,
                    p.variation.as_deref(),
                    p.category.as_deref(),
                )
            })
            .collect();
        let categories = categories::list(db.pool())
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let store = settings::get(db).await?;
        Ok(Catalog {
            rows,
            entries,
            categories,
            currency: store.currency,
            low_stock_threshold: store.low_stock_threshold,
        })
    }

    pub fn product(&self, sku: &Sku) -> Option<&products::ProductRow> {
        self.rows
            .iter()
            .find(|p| p.sku.eq_ignore_ascii_case(sku.as_str()))
    }

    /// The product at `index` as the API shows it to `audience`.
    pub fn view(&self, index: usize, audience: Audience) -> ProductView {
        ProductView::new(self.rows[index].clone(), self.low_stock_threshold).for_audience(audience)
    }
}
