-- Q3: 50 indicators with their 12 monthly values (one 2-D text array per indicator).
SELECT i.id, i.code, i.name,
       ARRAY(SELECT ARRAY[v.period::text, v.value::text] FROM indicator_values v
             WHERE v.indicator_id = i.id ORDER BY v.period) AS period_values
FROM indicators i
ORDER BY i.ordinal, i.id
LIMIT 50;
