-- wrk script: one POS checkout per request, one unit of one of 50 products picked at
-- random (a shop sells many products; 50 keeps row-lock contention realistic).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local sku = string.format("LOAD-%03d", math.random(1, 50))
  return wrk.format(nil, nil, nil, '{"items":[{"product_sku":"' .. sku .. '","quantity":1}]}')
end
