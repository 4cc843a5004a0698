-- Share of the fetched flights 15+ minutes late (the US DOT rule), per departure airport and day.
SELECT date, origin, count(*) AS flights,
       round(avg(CASE WHEN arr_delay >= 15 THEN 1.0 ELSE 0.0 END), 4) AS late_share
FROM new_clean
WHERE arr_delay IS NOT NULL
GROUP BY date, origin
ORDER BY date, origin
