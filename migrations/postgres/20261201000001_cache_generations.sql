-- Generation counters of cached answers for installations without Redis. Every process
-- (a worker activating a model, a CLI import) bumps them here, and each serving process
-- polls them, so its in-process cache hears of writes made elsewhere within a second.
CREATE TABLE cache_generations (
    name TEXT PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO cache_generations (name, generation) VALUES ('catalog', 0), ('sales', 0), ('forecasts', 0);
