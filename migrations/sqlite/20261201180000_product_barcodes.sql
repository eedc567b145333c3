-- A product's optional barcode (EAN-13 form, check digit verified by the application),
-- unique among products: a scan at the till must name one product. Several products may
-- have none (NULLs are distinct in a unique index on both databases).
ALTER TABLE products ADD COLUMN barcode TEXT;
CREATE UNIQUE INDEX products_barcode ON products (barcode);
