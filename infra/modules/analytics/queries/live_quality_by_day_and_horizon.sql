-- The live model on real outcomes, per departure day and horizon (how long before departure it was
-- asked: days ahead when no conditions were known): answers, mean probability, late share, Brier
-- score and the share of flags that were right.
WITH outcomes AS (
  SELECT date, carrier, origin, dest, sched_dep_local, max(arr_delay) AS arr_delay
  FROM new_clean
  WHERE arr_delay IS NOT NULL
  GROUP BY date, carrier, origin, dest, sched_dep_local
  HAVING count(*) = 1
), judged AS (
  SELECT p.date, p.probability, p.delayed,
         CASE WHEN p.hours_ahead IS NULL THEN 'days_ahead'
              WHEN p.hours_ahead <= 1 THEN '1h'
              WHEN p.hours_ahead <= 2 THEN '2h'
              WHEN p.hours_ahead <= 4 THEN '4h'
              ELSE '6h' END AS horizon,
         CASE WHEN o.arr_delay >= 15 THEN 1.0 ELSE 0.0 END AS late
  FROM predictions AS p
  JOIN outcomes AS o
    ON p.date = o.date AND p.carrier = o.carrier AND p.origin = o.origin AND p.dest = o.dest
   AND p.sched_dep_local = o.sched_dep_local
)
SELECT date, horizon, count(*) AS answers,
       round(avg(probability), 4) AS mean_probability,
       round(avg(late), 4) AS late_share,
       round(avg((probability - late) * (probability - late)), 4) AS brier,
       round(avg(CASE WHEN delayed = (late = 1.0) THEN 1.0 ELSE 0.0 END), 4) AS flag_accuracy
FROM judged
GROUP BY date, horizon
ORDER BY date, horizon
