-- Drift of the inputs: each departure airport's share of the API's answers against its share of
-- the history the models learn from, and the mean scheduled hour of each.
WITH asked AS (
  SELECT origin, count(*) AS n, avg(hour(sched_dep_local)) AS mean_hour FROM predictions GROUP BY origin
), learned AS (
  SELECT origin, count(*) AS n, avg(hour(sched_dep_local)) AS mean_hour FROM training GROUP BY origin
)
SELECT coalesce(a.origin, l.origin) AS origin,
       round(coalesce(a.n, 0) * 1.0 / (SELECT sum(n) FROM asked), 4) AS asked_share,
       round(coalesce(l.n, 0) * 1.0 / (SELECT sum(n) FROM learned), 4) AS training_share,
       round(a.mean_hour, 2) AS asked_mean_hour,
       round(l.mean_hour, 2) AS training_mean_hour
FROM asked AS a
FULL OUTER JOIN learned AS l ON a.origin = l.origin
ORDER BY origin
