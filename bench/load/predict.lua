-- wrk script: the same forecast request again and again (served from the cache).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"product_sku":"LOAD-001","days":30}'
