# The smoke flow through redis-py (Debian's python3-redis), as a Python app
# would use it. Prints one JSON object with what each step returned; the node
# test (python-client.test.mjs) checks it.
import json
import sys
import time

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
out = {"version": redis.__version__}
out["ping"] = r.ping()
out["set"] = r.set("py:greeting", "hola valkey ✓", ex=100)
out["get"] = r.get("py:greeting")
out["ttl"] = r.ttl("py:greeting")
out["hset"] = r.hset("py:user:1", mapping={"name": "Ada", "lang": "es"})
out["hgetall"] = r.hgetall("py:user:1")
out["lpush"] = r.lpush("py:jobs", "a", "b", "c")
out["lrange"] = r.lrange("py:jobs", 0, -1)
out["zadd"] = r.zadd("py:board", {"ann": 10, "bob": 2.5, "cid": -1})
out["zrange"] = r.zrange("py:board", 0, -1, withscores=True)
out["zrevrank"] = r.zrevrank("py:board", "bob")
out["xadd"] = r.xadd("py:events", {"type": "login"}, id="1-1")
out["xrange"] = r.xrange("py:events")
out["incrbyfloat"] = r.incrbyfloat("py:f", 0.1)

# Lua: EVAL, and a registered script (EVALSHA, loaded on NOSCRIPT).
out["eval"] = r.eval("return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1])}", 1, "py:greeting", "x")
script = r.register_script("return redis.call('GET', KEYS[1]) .. ARGV[1]")
out["script"] = [script(keys=["py:greeting"], args=["!"]), script(keys=["py:greeting"], args=["?"])]

# Transaction (MULTI/EXEC through a pipeline) and WATCH conflict detection.
pipe = r.pipeline(transaction=True)
pipe.incr("py:ctr").incr("py:ctr").get("py:ctr")
out["multi"] = pipe.execute()
with r.pipeline() as p:
    p.watch("py:ctr")
    r.set("py:ctr", "100")  # another client changes the key
    p.multi()
    p.incr("py:ctr")
    try:
        p.execute()
        out["watch"] = "committed"
    except redis.WatchError:
        out["watch"] = "aborted"

# Pub/Sub.
ps = r.pubsub()
ps.subscribe("py:news")
first = ps.get_message(timeout=2)
out["subscribe"] = [first["type"], first["channel"], first["data"]]
out["publish"] = r.publish("py:news", "mensaje desde valkey")
msg = None
deadline = time.time() + 5
while msg is None and time.time() < deadline:
    msg = ps.get_message(timeout=1, ignore_subscribe_messages=True)
out["message"] = [msg["type"], msg["channel"], msg["data"]] if msg else None
ps.close()

# Binary-safe values without decoding.
rb = redis.Redis(host="127.0.0.1", port=port)
rb.set(b"py:bin", bytes(range(256)))
out["binary_ok"] = rb.get(b"py:bin") == bytes(range(256))

# Errors come back as exceptions with the server's text.
try:
    r.lpush("py:greeting", "x")
    out["wrongtype"] = None
except redis.ResponseError as e:
    out["wrongtype"] = str(e)

# scan_iter walks the keyspace.
out["scan"] = sorted(r.scan_iter(match="py:*"))
print(json.dumps(out))
