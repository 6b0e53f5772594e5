"""streets"""
