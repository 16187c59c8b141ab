-- What 0.1.0 did to the database of setup-0.1.0.sql before it was frozen
-- (state-0.1.0.sql holds the result: see test/t/060_upgrade.pl, make_state).
INSERT INTO crm.customer VALUES
  (1, 'one@example.com', '+3311111111', 'Lyon', '2010-01-01'),
  (2, 'two@example.com', '+3322222222', 'Paris', '2010-02-01'),
  (3, 'three@example.com', '+3333333333', 'Nice', '2023-03-01'),
  (4, 'four@example.com', '+3344444444', 'Lille', '2100-01-01'),
  (5, 'five@example.com', '+3355555555', 'Metz', '2100-01-01'),
  (6, 'six@example.com', '+3366666666', 'Brest', '2100-01-01');
INSERT INTO crm.orders VALUES (30, 3, 10, 'Nice', '2023-03-01'), (40, 4, 20, 'Lille', '2099-01-01');
INSERT INTO crm.visit VALUES (1, 3, '/old', '2020-01-01'), (2, 4, '/new', '2100-01-01');
CALL retention.run();
SELECT retention.forget_subject('customer', '2', 'upgrade test');
