-- Analyzing messages spent most of its time on the search column's word statistics (a few
-- hundred milliseconds of CPU, taken from the pages during a burst). Search only needs them to
-- tell a common word (in more than about 1% of messages) from a rare one, and the 200 most
-- frequent words say that.
ALTER TABLE messages ALTER COLUMN search SET STATISTICS 20;
