DROP TABLE login_throttle;
DROP TABLE users;
DROP TABLE tenants;
