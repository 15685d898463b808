"""Each check as a function of an exercise under test and a trial; a wrong answer raises CheckFailure."""
