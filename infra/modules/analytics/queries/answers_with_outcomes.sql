-- Every answer of the API joined with what then happened (the fetched flight, by carrier, airports
-- and scheduled local departure; a key two fetched flights share is left out, as the evaluator does).
WITH outcomes AS (
  SELECT date, carrier, origin, dest, sched_dep_local, max(arr_delay) AS arr_delay
  FROM new_clean
  WHERE arr_delay IS NOT NULL
  GROUP BY date, carrier, origin, dest, sched_dep_local
  HAVING count(*) = 1
)
SELECT p.date, p.asked_utc, p.carrier, p.origin, p.dest, p.sched_dep_local, p.model_version,
       p.probability, p.delayed, p.hours_ahead, o.arr_delay,
       CASE WHEN o.arr_delay >= 15 THEN 1 ELSE 0 END AS late
FROM predictions AS p
JOIN outcomes AS o
  ON p.date = o.date AND p.carrier = o.carrier AND p.origin = o.origin AND p.dest = o.dest
 AND p.sched_dep_local = o.sched_dep_local
ORDER BY p.date, p.asked_utc, p.carrier, p.origin, p.dest
