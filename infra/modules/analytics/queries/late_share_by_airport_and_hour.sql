-- Share of flights 15+ minutes late by departure airport and scheduled local hour, over every
-- flight with a known arrival: the history (training) and the fetched days (new_clean).
SELECT origin, hour(sched_dep_local) AS hour, count(*) AS flights,
       round(avg(CASE WHEN arr_delay >= 15 THEN 1.0 ELSE 0.0 END), 4) AS late_share
FROM (
  SELECT origin, sched_dep_local, arr_delay FROM training
  UNION ALL
  SELECT origin, sched_dep_local, arr_delay FROM new_clean
) AS flights
WHERE arr_delay IS NOT NULL
GROUP BY origin, hour(sched_dep_local)
ORDER BY origin, hour
