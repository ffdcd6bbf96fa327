-- wrk script: POST /v1/ask with a rotating set of practitioner questions,
-- counting non-2xx answers as errors (wrk only counts socket errors itself).
-- usage: [BQA_QUESTIONS=file] wrk -t2 -c8 -d60s -s bench/ask.lua --latency http://127.0.0.1:8000
local questions = {
  "What is the impact of poverty on neglect?",
  "How should practitioners share information about a child at risk?",
  "What are the responsibilities of the designated safeguarding lead?",
  "What should a school do when a child is missing from education?",
  "How can agencies hear the voice of the child?",
  "What is contextual safeguarding?",
  "What health assessments do looked-after children need?",
  "What are the signs of child sexual exploitation?",
  "When should a referral be made to children's social care?",
  "How do parental mental health and substance misuse affect children?",
  "What does the national framework say about family help?",
  "Can I share information without consent?",
}
-- BQA_QUESTIONS=file: one question a line instead (e.g. bench/short_questions.txt,
-- the few-word questions that are also read with their short forms spelled out).
local file = os.getenv("BQA_QUESTIONS")
if file and file ~= "" then
  questions = {}
  for line in io.lines(file) do
    if line:match("%S") then table.insert(questions, (line:gsub('\\', '\\\\'):gsub('"', '\\"'))) end
  end
end
local i = 0
local key = os.getenv("BQA_API_KEY")

request = function()
  i = i + 1
  local q = questions[(i % #questions) + 1]
  local headers = { ["Content-Type"] = "application/json" }
  if key and key ~= "" then headers["X-API-Key"] = key end
  return wrk.format("POST", "/v1/ask", headers, '{"question": "' .. q .. '", "top_k": 5}')
end

local bad = 0
response = function(status, headers, body)
  if status < 200 or status >= 300 then bad = bad + 1 end
end

-- per-thread counters are merged through a table shared in done()
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) bad = 0 end

done = function(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(threads) do non2xx = non2xx + (t:get("bad") or 0) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f socket_errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, non2xx + summary.errors.status))
end
