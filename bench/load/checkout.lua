-- wrk script: one POS checkout per request (one unit of the benchmark product).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"items":[{"product_sku":"LOAD-001","quantity":1}]}'
