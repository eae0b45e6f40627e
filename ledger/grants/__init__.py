"""Small-business grants to households: proposal, maker-checker approval, disbursements in
cash or in kind (posted in the organisation's book and the household's, linked), receipts."""
